//! The real controllers (kube-runtime, as deployed) against the fake API server and the simulator,
//! with the schedule clock running faster than real time where runs must pass quickly.

use std::sync::Arc;
use std::time::Duration;

use hwcloud_backup_operator::controller::backup_schedule::clock::Clock;
use hwcloud_backup_operator::sim::SimConfig;
use serde_json::json;

use hwcloud_backup_operator::controller::context::Settings;

use crate::harness::{Harness, fast_settings};
use crate::rig::*;

/// Children the operator created in `plural` (POSTs the API server accepted). Events cannot count
/// them: the recorder folds repeats of an event into one series.
fn created(h: &Harness, plural: &str) -> usize {
    h.api
        .calls()
        .iter()
        .filter(|c| c.method == "POST" && c.path.ends_with(&format!("/{plural}")))
        .count()
}

/// Whether every child of `plural` is final.
fn all_final(h: &Harness, plural: &str) -> bool {
    names(h, plural).iter().all(|n| {
        h.status(&child_path(plural, n))
            .phase
            .is_some_and(|p| p.is_terminal())
    })
}

#[tokio::test]
async fn compressed_every_minute_runs_end_with_exactly_the_expected_cloud_backups() {
    // 20 s of schedule time per real second: a run every 3 s, each backup a few hundred ms, so a
    // loaded machine still finishes every backup before the next run is due.
    const RUNS: usize = 5;
    let mut h = Harness::with(
        SimConfig {
            backup_duration: Duration::from_millis(200),
            ..SimConfig::default()
        },
        fast_settings(),
    )
    .await;
    Arc::get_mut(&mut h.ctx).unwrap().schedule_clock =
        Clock::scaled(ts("2026-11-28T01:59:40Z"), 20);
    let mut dcs = dcs_schedule("* * * * *", "redis-1");
    dcs["retention"] = json!({"keepLast": 3});
    let cache = put_schedule(&h, "cache", "2026-11-28T01:59:00Z", dcs, json!({}));
    let dds = json!({"schedule": "* * * * *", "retention": {"keepLast": 2},
        "template": {"ddsBackup": {"instanceId": "mongo-1", "backupName": "docs"}}});
    let docs = put_schedule(&h, "docs", "2026-11-28T01:59:00Z", dds, json!({}));
    let running = h.run_controllers(4);

    h.wait_until(Duration::from_secs(60), "five runs of each schedule", |h| {
        created(h, "dcsbackups") >= RUNS && created(h, "ddsbackups") >= RUNS
    })
    .await;
    edit_spec(&h, &cache, |s| s["suspend"] = json!(true));
    edit_spec(&h, &docs, |s| s["suspend"] = json!(true));
    h.wait_until(
        Duration::from_secs(30),
        "retention after the last backups",
        |h| {
            all_final(h, "dcsbackups")
                && all_final(h, "ddsbackups")
                && names(h, "dcsbackups").len() == 3
                && names(h, "ddsbackups").len() == 2
                && h.sim
                    .backups()
                    .iter()
                    .filter(|b| b.instance_id == "redis-1" && b.status != "deleted")
                    .count()
                    == 3
                && h.sim
                    .backups()
                    .iter()
                    .filter(|b| b.service == "dds")
                    .count()
                    == 2
        },
    )
    .await;
    running.stop().await;

    let posted: Vec<String> = h
        .api
        .calls()
        .iter()
        .filter(|c| c.method == "POST" && c.path.contains("backups"))
        .map(|c| {
            c.body["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    // What happened, for the messages below.
    let story = format!(
        "created {posted:?}; events cache {:?} docs {:?}",
        events_for(&h, "cache"),
        events_for(&h, "docs")
    );
    // One run per minute, no more, none skipped: the kept children are the last run times.
    assert_eq!(created(&h, "dcsbackups"), RUNS, "{story}");
    assert_eq!(created(&h, "ddsbackups"), RUNS, "{story}");
    assert_eq!(
        names(&h, "dcsbackups"),
        [
            "cache-202611280202",
            "cache-202611280203",
            "cache-202611280204"
        ],
        "{story}"
    );
    assert_eq!(
        names(&h, "ddsbackups"),
        ["docs-202611280203", "docs-202611280204"],
        "{story}"
    );
    for s in ["cache", "docs"] {
        let reasons = events_for(&h, s);
        assert!(
            !reasons
                .iter()
                .any(|r| r == "RunSkipped" || r == "MissedRunsSkipped"),
            "{s}: {reasons:?}"
        );
    }
    // The cloud: one backup per run, and exactly the kept ones left.
    let creates = |svc: &str| {
        h.sim
            .calls()
            .iter()
            .filter(|c| c.service == svc && c.operation == "create_backup" && c.status < 300)
            .count()
    };
    assert_eq!((creates("dcs"), creates("dds")), (RUNS, RUNS));
    let dcs_backups = h.sim.backups();
    let left: Vec<_> = dcs_backups
        .iter()
        .filter(|b| b.service == "dcs" && b.status != "deleted")
        .collect();
    assert_eq!(left.len(), 3, "{dcs_backups:#?}");
    assert_eq!(
        dcs_backups.iter().filter(|b| b.status == "deleted").count(),
        RUNS - 3
    );
    let mut dds_names: Vec<_> = h
        .sim
        .backups()
        .into_iter()
        .filter(|b| b.service == "dds")
        .map(|b| b.name)
        .collect();
    dds_names.sort();
    assert_eq!(dds_names, ["docs-202611280203", "docs-202611280204"]);
}

#[tokio::test]
async fn a_child_reaching_a_final_phase_wakes_its_schedule_for_retention() {
    let mut h = Harness::new().await;
    Arc::get_mut(&mut h.ctx).unwrap().schedule_clock = Clock::scaled(ts("2026-11-28T01:59:59Z"), 1);
    let mut spec = dcs_schedule("0 2 * * *", "redis-1");
    spec["retention"] = json!({"keepLast": 1});
    let path = put_schedule(&h, "nightly", "2026-11-20T00:00:00Z", spec, json!({}));
    put_status(
        &h,
        &path,
        json!({"lastScheduleTime": "2026-11-27T02:00:00Z"}),
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
