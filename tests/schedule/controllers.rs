//! The real controllers (kube-runtime, as deployed) against the fake API server and the simulator:
//! a child's change wakes its schedule, a thousand idle schedules cost nothing between runs, and a
//! deleted schedule's series go. The compressed run of every-minute schedules is in compressed.rs.

use std::sync::Arc;
use std::time::Duration;

use hwcloud_backup_operator::controller::backup_schedule::clock::Clock;
use hwcloud_backup_operator::controller::context::Settings;
use hwcloud_backup_operator::sim::SimConfig;
use serde_json::json;

use crate::harness::{Harness, fast_settings};
use crate::rig::*;

#[tokio::test]
async fn a_child_reaching_a_final_phase_wakes_its_schedule_for_retention() {
    let mut h = Harness::new().await;
    Arc::get_mut(&mut h.ctx).unwrap().schedule_clock = Clock::scaled(ts("2026-11-28T01:59:59Z"), 1);
    let mut spec = dcs_schedule("0 2 * * *", "redis-1");
    spec["retention"] = json!({"keepLast": 1});
    let path = schedule_last_run(
        &h,
        "nightly",
        "2026-11-20T00:00:00Z",
        spec,
        "2026-11-27T02:00:00Z",
    );
    let old = put_child(
        &h,
        "DcsBackup",
        "dcsbackups",
        "nightly",
        "2026-11-27T02:00:00Z",
        Some("Succeeded"),
    );
    let running = h.run_controllers(2);
    let new = child_path("dcsbackups", "nightly-202611280200");
    h.wait_until(Duration::from_secs(20), "the new backup to succeed", |h| {
        h.status(&new).phase.is_some_and(|p| p.is_terminal())
    })
    .await;
    // Retention had nothing to delete at the run (the old child was the newest Succeeded then); the
    // next run is a day away, so only the child's own change can have woken the schedule.
    h.wait_until(Duration::from_secs(10), "retention of the old child", |h| {
        h.api.get(&old).is_none()
    })
    .await;
    let st = schedule_status(&h, &path);
    h.wait_until(Duration::from_secs(5), "the status to show it", |h| {
        schedule_status(h, &path).kept_succeeded == Some(1)
    })
    .await;
    running.stop().await;
    assert_eq!(names(&h, "dcsbackups"), ["nightly-202611280200"]);
    assert!(st.next_schedule_time.is_some());
}

/// API calls the fake server logged, as "METHOD path".
fn described(calls: &[crate::fake_api::Call]) -> Vec<String> {
    calls
        .iter()
        .map(|c| format!("{} {}", c.method, c.path))
        .collect()
}

// tokio's clock is paused: it jumps to the next timer whenever every task waits, and the schedule
// clock follows it. Six idle hours pass in seconds with every timer of the controllers firing on
// the way, so a polling loop of any period under 6 h, in real or in schedule time, shows up.
#[tokio::test(start_paused = true)]
async fn a_thousand_idle_schedules_make_no_api_calls_between_runs() {
    const SCHEDULES: usize = 1000;
    let mut h = Harness::with(
        SimConfig::default(),
        Settings {
            // The children made at 02:00 name a Secret that does not exist and wait quietly.
            auth_backoff: Duration::from_secs(3600),
            retry_after: Duration::from_secs(3600),
            ..fast_settings()
        },
    )
    .await;
    Arc::get_mut(&mut h.ctx).unwrap().schedule_clock = Clock::scaled(ts("2026-11-28T20:00:00Z"), 1);
    for i in 0..SCHEDULES {
        let mut spec = dcs_schedule("0 2 * * *", &format!("redis-{i}"));
        spec["template"]["dcsBackup"]["credentialsSecretRef"] = json!({"name": "absent"});
        put_schedule(
            &h,
            &format!("s{i}"),
            "2026-11-28T09:00:00Z",
            spec,
            json!({}),
        );
    }
    let running = h.run_controllers(8);
    h.wait_until(Duration::from_secs(120), "every schedule's status", |h| {
        (0..SCHEDULES).all(|i| {
            schedule_status(h, &schedule_path(&format!("s{i}")))
                .next_schedule_time
                .is_some()
        })
    })
    .await;
    // The reconciles that the operator's own status writes trigger find nothing to do.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let settled = h.api.calls().len();
    let writes = h
        .api
        .calls()
        .iter()
        .filter(|c| c.method == "PATCH" && c.path.ends_with("/status"))
        .count();
    assert_eq!(writes, SCHEDULES, "one status write per schedule");

    // Idle until ten seconds before the runs at 02:00 (6 h after the start).
    let clock = h.ctx.schedule_clock;
    let idle_until = ts("2026-11-29T01:59:50Z");
    let wait = Duration::try_from(idle_until.duration_since(clock.now())).unwrap();
    assert!(wait > Duration::from_secs(5 * 3600), "{wait:?}");
    let real = std::time::Instant::now();
    tokio::time::sleep(wait).await;
    let real = real.elapsed();
    assert!(
        clock.now() >= idle_until && clock.now() < ts("2026-11-29T02:00:00Z"),
        "schedule time follows tokio's clock: {}",
        clock.now()
    );
    let (watches, idle): (Vec<_>, Vec<_>) = h.api.calls()[settled..]
        .iter()
        .cloned()
        .partition(|c| c.is_watch());
    let idle = described(&idle);
    assert!(
        idle.is_empty(),
        "{} API calls while idle, the first: {:?}",
        idle.len(),
        &idle[..idle.len().min(10)]
    );
    assert!(h.sim.calls().is_empty(), "no cloud calls");

    // The runs come at their time: each schedule's one requeue fired, and nothing more did.
    h.wait_until(Duration::from_secs(60), "a child of every schedule", |h| {
        names(h, "dcsbackups").len() == SCHEDULES
    })
    .await;
    let at = clock.now();
    let calls = h.api.calls();
    running.stop().await;
    assert!(
        at >= ts("2026-11-29T02:00:00Z") && at < ts("2026-11-29T02:01:00Z"),
        "{at}"
    );
    let lists = calls[settled..]
        .iter()
        .filter(|c| c.method == "GET" && !c.is_watch() && c.path.ends_with("/dcsbackups"))
        .count();
    for i in [0, SCHEDULES - 1] {
        assert!(names(&h, "dcsbackups").contains(&format!("s{i}-202611290200")));
    }
    println!(
        "{SCHEDULES} schedules: {settled} API calls to settle ({writes} status writes), 0 in the \
         6 h after (passed in {real:?}; {} watch reconnects), {lists} child lists at the 02:00 runs",
        watches.len()
    );
}

#[tokio::test]
async fn a_deleted_schedules_series_go_and_the_others_stay() {
    use crate::status::{gauge, kept_series, series};
    let mut h = Harness::new().await;
    // 60 schedule-seconds per real second: the daily 02:00 runs stay hours away throughout.
    Arc::get_mut(&mut h.ctx).unwrap().schedule_clock =
        Clock::scaled(ts("2026-11-28T10:00:00Z"), 60);
    let nightly = put_schedule(
        &h,
        "nightly",
        "2026-11-28T09:00:00Z",
        dcs_schedule("0 2 * * *", "redis-1"),
        json!({}),
    );
    put_schedule(
        &h,
        "other",
        "2026-11-28T09:00:00Z",
        dcs_schedule("0 3 * * *", "redis-2"),
        json!({}),
    );
    let running = h.run_controllers(2);
    let next = |s: &str| series("schedule_next_run_timestamp_seconds", s);
    h.wait_until(Duration::from_secs(20), "both schedules' series", |h| {
        let text = h.metrics.encode();
        gauge(&text, &next("nightly")).is_some() && gauge(&text, &next("other")).is_some()
    })
    .await;
    let text = h.metrics.encode();
    assert_eq!(
        gauge(&text, &next("nightly")),
        Some(ts("2026-11-29T02:00:00Z").as_second() as f64)
    );
    assert_eq!(
        gauge(&text, &kept_series("nightly", "Succeeded")),
        Some(0.0)
    );

    h.api.delete(&nightly);
    h.wait_until(
        Duration::from_secs(10),
        "the deleted schedule's series to go",
        |h| !h.metrics.encode().contains(r#"schedule="nightly""#),
    )
    .await;
    let text = h.metrics.encode();
    running.stop().await;
    assert_eq!(
        gauge(&text, &next("other")),
        Some(ts("2026-11-29T03:00:00Z").as_second() as f64),
        "{text}"
    );
    assert_eq!(gauge(&text, &kept_series("other", "Failed")), Some(0.0));
}
