//! Downtime, suspension and invalid specs, one reconcile at a time: one catch-up run at most, runs
//! past the deadline settled without running, nothing made up on resume, `InvalidSpec` until fixed.

use serde_json::json;

use crate::harness::Harness;
use crate::rig::*;

fn dcs_children(h: &Harness) -> Vec<String> {
    names(h, "dcsbackups")
}

#[tokio::test]
async fn after_days_down_one_catch_up_run_named_after_the_latest_time() {
    let mut h = Harness::new().await;
    let path = nightly_last_run(&h, "2026-11-24T02:00:00Z");
    set_now(&mut h, "2026-11-28T02:20:00Z");
    step(&h, &path).await;
    assert_eq!(dcs_children(&h), ["nightly-202611280200"]);
    assert_eq!(
        events_for(&h, "nightly"),
        ["BackupScheduled", "MissedRunsSkipped"]
    );
    let note = event_note(&h, "nightly", "MissedRunsSkipped");
    assert!(
        note.starts_with("3 earlier run time(s) from 2026-11-25 02:00 UTC"),
        "{note}"
    );
}

#[tokio::test]
async fn past_the_deadline_nothing_runs_and_the_skip_is_recorded() {
    let mut h = Harness::new().await;
    let path = nightly_last_run(&h, "2026-11-27T02:00:00Z");
    set_now(&mut h, "2026-11-28T05:00:00Z");
    step(&h, &path).await;
    assert!(dcs_children(&h).is_empty());
    let st = schedule_status(&h, &path);
    assert_eq!(
        st.last_skipped_time.clone().unwrap().0,
        ts("2026-11-28T02:00:00Z")
    );
    assert_eq!(
        st.next_schedule_time.clone().unwrap().0,
        ts("2026-11-29T02:00:00Z")
    );
    assert_eq!(events_for(&h, "nightly"), ["MissedRunsSkipped"]);
    assert!(event_note(&h, "nightly", "MissedRunsSkipped").contains("startingDeadline (1h)"));
    // Settled: the next reconcile neither runs it nor reports it again.
    step(&h, &path).await;
    assert!(dcs_children(&h).is_empty());
    assert_eq!(events_for(&h, "nightly"), ["MissedRunsSkipped"]);
}

#[tokio::test]
async fn suspended_runs_nothing_and_resuming_does_not_make_up_the_suspended_runs() {
    let mut h = Harness::new().await;
    let mut spec = dcs_schedule("0 2 * * *", "redis-1");
    spec["suspend"] = json!(true);
    let path = put_schedule(&h, "nightly", "2026-11-27T12:00:00Z", spec, json!({}));
    set_now(&mut h, "2026-11-28T02:00:05Z");
    assert_eq!(step(&h, &path).await, None, "no timer while suspended");
    assert!(dcs_children(&h).is_empty());
    let st = schedule_status(&h, &path);
    assert_eq!(
        condition(&st, "Ready"),
        Some(("False".into(), "Suspended".into()))
    );
    assert_eq!(st.next_schedule_time, None);

    edit_spec(&h, &path, |s| s["suspend"] = json!(false));
    set_now(&mut h, "2026-11-28T02:30:00Z");
    assert!(step(&h, &path).await.is_some());
    assert!(dcs_children(&h).is_empty(), "no backup fires on resume");
    let st = schedule_status(&h, &path);
    assert_eq!(
        st.last_skipped_time.clone().unwrap().0,
        ts("2026-11-28T02:00:00Z")
    );
    assert_eq!(
        condition(&st, "Ready"),
        Some(("True".into(), "Scheduled".into()))
    );

    set_now(&mut h, "2026-11-29T02:00:01Z");
    step(&h, &path).await;
    assert_eq!(dcs_children(&h), ["nightly-202611290200"]);
}

#[tokio::test]
async fn an_unknown_time_zone_is_invalid_spec_and_runs_nothing_until_fixed() {
    let mut h = Harness::new().await;
    let mut spec = dcs_schedule("0 2 * * *", "redis-1");
    spec["timeZone"] = json!("Mars/Olympus");
    let path = put_schedule(&h, "nightly", "2026-11-27T12:00:00Z", spec, json!({}));
    set_now(&mut h, "2026-11-28T02:00:05Z");
    assert_eq!(step(&h, &path).await, None);
    assert_eq!(step(&h, &path).await, None);
    assert!(dcs_children(&h).is_empty());
    let st = schedule_status(&h, &path);
    assert_eq!(
        condition(&st, "Ready"),
        Some(("False".into(), "InvalidSpec".into()))
    );
    assert!(
        st.conditions[0]
            .message
            .starts_with("spec.timeZone: unknown time zone \"Mars/Olympus\""),
        "{:?}",
        st.conditions
    );
    assert_eq!(st.next_schedule_time, None);
    assert_eq!(events_for(&h, "nightly"), ["InvalidSpec"], "said once");

    edit_spec(&h, &path, |s| s["timeZone"] = json!("Europe/Berlin"));
    step(&h, &path).await;
    let st = schedule_status(&h, &path);
    assert_eq!(
        condition(&st, "Ready"),
        Some(("True".into(), "Scheduled".into()))
    );
}

#[tokio::test]
async fn a_six_field_schedule_that_slipped_past_the_crd_is_invalid_spec() {
    let mut h = Harness::new().await;
    let path = put_schedule(
        &h,
        "seconds",
        "2026-11-27T12:00:00Z",
        dcs_schedule("0 0 2 * * *", "redis-1"),
        json!({}),
    );
    set_now(&mut h, "2026-11-28T02:00:05Z");
    step(&h, &path).await;
    assert!(dcs_children(&h).is_empty());
    let st = schedule_status(&h, &path);
    assert_eq!(
        condition(&st, "Ready"),
        Some(("False".into(), "InvalidSpec".into()))
    );
    assert!(
        st.conditions[0]
            .message
            .starts_with("spec.schedule: has more than 5 fields"),
        "{}",
        st.conditions[0].message
    );
}

#[tokio::test]
async fn a_dcs_keep_last_above_20_is_accepted_with_a_warning_condition() {
    let mut h = Harness::new().await;
    let mut spec = dcs_schedule("0 2 * * *", "redis-1");
    spec["retention"] = json!({"keepLast": 30});
    let path = put_schedule(&h, "many", "2026-11-27T12:00:00Z", spec, json!({}));
    set_now(&mut h, "2026-11-28T02:00:05Z");
    step(&h, &path).await;
    assert_eq!(dcs_children(&h).len(), 1, "accepted: it runs");
    let st = schedule_status(&h, &path);
    assert_eq!(
        condition(&st, "Warning"),
        Some(("True".into(), "DcsBackupCap".into()))
    );
    let w = st.conditions.iter().find(|c| c.type_ == "Warning").unwrap();
    assert!(
        w.message.contains("at most 24 backups per instance"),
        "{}",
        w.message
    );

    edit_spec(&h, &path, |s| s["retention"]["keepLast"] = json!(20));
    step(&h, &path).await;
    assert_eq!(condition(&schedule_status(&h, &path), "Warning"), None);
}
