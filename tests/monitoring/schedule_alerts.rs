//! The "no success for 1.5 periods" alerts of `BackupSchedule`s, evaluated: the chart's rules run
//! over what the operator's registry exposes for a few schedules, at chosen instants, and must fire
//! exactly when they promise. A period is the time from a schedule's latest run to its next.

use hwcloud_backup_operator::metrics::{Metrics, ScheduleFigures};
use jiff::Timestamp;

use super::promql_eval::{Sample, Value, eval_str, parse_scrape};
use super::{CHART, RuleFile, read};

const NO_SUCCESS: &str = "HwcloudBackupScheduleNoSuccess";
const NEVER: &str = "HwcloudBackupScheduleNeverSucceeded";

fn unix(s: &str) -> i64 {
    s.parse::<Timestamp>()
        .unwrap_or_else(|e| panic!("{s}: {e}"))
        .as_second()
}

/// A schedule's figures: `next`, `last_run` and `last_success` as RFC 3339 (or absent).
fn figures(
    last_run: Option<&str>,
    next: Option<&str>,
    last_success: Option<&str>,
) -> ScheduleFigures {
    ScheduleFigures {
        next_run: next.map(unix),
        last_run: last_run.map(unix),
        last_success: last_success.map(unix),
        kept_succeeded: i64::from(last_success.is_some()),
        kept_failed: 0,
    }
}

/// The samples a scrape of the operator shows for these schedules (namespace `team-a`).
fn scrape(schedules: &[(&str, ScheduleFigures)]) -> Vec<Sample> {
    let m = Metrics::new();
    for (name, f) in schedules {
        m.set_schedule("team-a", name, f);
    }
    parse_scrape(&m.encode())
}

fn rule(alert: &str) -> String {
    let file: RuleFile =
        serde_saphyr::from_str(&read(&format!("{CHART}/files/alerts.yaml"))).unwrap();
    file.groups
        .into_iter()
        .flat_map(|g| g.rules)
        .find(|r| r.alert == alert)
        .unwrap_or_else(|| panic!("no alert {alert}"))
        .expr
}

/// The schedules `alert` fires for at `now` (the rules have no `for:`, so a result is a firing alert).
fn firing(alert: &str, samples: &[Sample], now: &str) -> Vec<String> {
    let expr = rule(alert);
    let out = eval_str(&expr, samples, unix(now) as f64)
        .unwrap_or_else(|e| panic!("{alert}: {e}\n{expr}"));
    let Value::Vector(v) = out else {
        panic!("{alert} is not a vector: {out:?}");
    };
    v.into_iter()
        .map(|s| {
            assert_eq!(s.labels["namespace"], "team-a", "{s:?}");
            s.labels["schedule"].clone()
        })
        .collect()
}

#[test]
fn no_success_fires_half_a_period_after_a_run_that_did_not_succeed() {
    // Daily at 02:00; the 27th's run succeeded at 02:10, the 28th's did not.
    let failing = scrape(&[(
        "nightly",
        figures(
            Some("2026-11-28T02:00:00Z"),
            Some("2026-11-29T02:00:00Z"),
            Some("2026-11-27T02:10:00Z"),
        ),
    )]);
    // 1.5 days after the last success: 14:10 on the 28th.
    assert!(firing(NO_SUCCESS, &failing, "2026-11-28T14:09:00Z").is_empty());
    assert_eq!(
        firing(NO_SUCCESS, &failing, "2026-11-28T14:11:00Z"),
        ["nightly"]
    );
    assert_eq!(
        firing(NO_SUCCESS, &failing, "2026-11-29T01:59:00Z"),
        ["nightly"]
    );
    // It has succeeded before: the never-succeeded alert stays silent.
    assert!(firing(NEVER, &failing, "2026-11-29T01:59:00Z").is_empty());
}

#[test]
fn no_success_stays_silent_while_every_run_succeeds() {
    let healthy = scrape(&[(
        "nightly",
        figures(
            Some("2026-11-28T02:00:00Z"),
            Some("2026-11-29T02:00:00Z"),
            Some("2026-11-28T02:10:00Z"),
        ),
    )]);
    // Up to the next run, and past it while that run is still going.
    for now in ["2026-11-28T02:11:00Z", "2026-11-29T01:59:00Z"] {
        assert!(firing(NO_SUCCESS, &healthy, now).is_empty(), "{now}");
        assert!(firing(NEVER, &healthy, now).is_empty(), "{now}");
    }
    // At the next run (last run 29th 02:00, next 30th 02:00), a day after the success.
    let next_day = scrape(&[(
        "nightly",
        figures(
            Some("2026-11-29T02:00:00Z"),
            Some("2026-11-30T02:00:00Z"),
            Some("2026-11-28T02:10:00Z"),
        ),
    )]);
    assert!(firing(NO_SUCCESS, &next_day, "2026-11-29T02:30:00Z").is_empty());
}

#[test]
fn the_period_is_the_schedules_own() {
    // Hourly: the 10:00 run has not succeeded and the last success was at 08:40 (an hour and a half
    // before 10:10).
    let hourly = scrape(&[(
        "hourly",
        figures(
            Some("2026-11-28T10:00:00Z"),
            Some("2026-11-28T11:00:00Z"),
            Some("2026-11-28T08:40:00Z"),
        ),
    )]);
    assert!(firing(NO_SUCCESS, &hourly, "2026-11-28T10:09:00Z").is_empty());
    assert_eq!(
        firing(NO_SUCCESS, &hourly, "2026-11-28T10:11:00Z"),
        ["hourly"]
    );
}

#[test]
fn never_succeeded_fires_half_a_period_after_the_first_run_and_no_success_cannot() {
    let never = scrape(&[(
        "fresh",
        figures(
            Some("2026-11-28T02:00:00Z"),
            Some("2026-11-29T02:00:00Z"),
            None,
        ),
    )]);
    assert!(firing(NEVER, &never, "2026-11-28T13:59:00Z").is_empty());
    assert_eq!(firing(NEVER, &never, "2026-11-28T14:01:00Z"), ["fresh"]);
    // Without a success there is nothing for the other alert to compare.
    assert!(firing(NO_SUCCESS, &never, "2026-11-29T01:59:00Z").is_empty());
    // A schedule that has not run yet is not late.
    let new = scrape(&[("new", figures(None, Some("2026-11-29T02:00:00Z"), None))]);
    for alert in [NO_SUCCESS, NEVER] {
        assert!(firing(alert, &new, "2026-11-28T23:00:00Z").is_empty());
    }
}

#[test]
fn suspended_schedules_never_fire() {
    // Suspended (or invalid): no next run, however old the last success.
    let suspended = scrape(&[
        (
            "paused",
            figures(
                Some("2026-10-01T02:00:00Z"),
                None,
                Some("2026-09-30T02:10:00Z"),
            ),
        ),
        (
            "paused-never",
            figures(Some("2026-10-01T02:00:00Z"), None, None),
        ),
    ]);
    for alert in [NO_SUCCESS, NEVER] {
        assert!(
            firing(alert, &suspended, "2026-11-28T12:00:00Z").is_empty(),
            "{alert}"
        );
    }
}

#[test]
fn each_schedule_is_judged_on_its_own_figures() {
    let samples = scrape(&[
        (
            "healthy",
            figures(
                Some("2026-11-28T02:00:00Z"),
                Some("2026-11-29T02:00:00Z"),
                Some("2026-11-28T02:10:00Z"),
            ),
        ),
        (
            "failing",
            figures(
                Some("2026-11-28T03:00:00Z"),
                Some("2026-11-29T03:00:00Z"),
                Some("2026-11-26T03:10:00Z"),
            ),
        ),
        (
            "never",
            figures(
                Some("2026-11-28T04:00:00Z"),
                Some("2026-11-29T04:00:00Z"),
                None,
            ),
        ),
    ]);
    let now = "2026-11-28T18:00:00Z";
    assert_eq!(firing(NO_SUCCESS, &samples, now), ["failing"]);
    assert_eq!(firing(NEVER, &samples, now), ["never"]);
}

#[test]
fn the_evaluator_follows_prometheus() {
    // The evaluator itself, on cases whose results Prometheus documents.
    let s = parse_scrape(
        "a{x=\"1\",y=\"p\"} 10\na{x=\"2\",y=\"p\"} 20\nb{x=\"1\",y=\"q\"} 2\nb{x=\"2\",y=\"p\"} 4\n# EOF\n",
    );
    let vector = |expr: &str| match eval_str(expr, &s, 100.0).unwrap() {
        Value::Vector(v) => v
            .into_iter()
            .map(|s| (s.labels.get("x").cloned().unwrap_or_default(), s.value))
            .collect::<Vec<_>>(),
        other => panic!("{other:?}"),
    };
    // Matching on every label but the name: only x=2 has the same y on both sides.
    assert_eq!(vector("a / b"), [("2".into(), 5.0)]);
    assert_eq!(
        vector("a / on (x) b"),
        [("1".into(), 5.0), ("2".into(), 5.0)]
    );
    assert_eq!(
        vector("a / ignoring (y) b"),
        [("1".into(), 5.0), ("2".into(), 5.0)]
    );
    assert_eq!(vector("a unless on (x) b{x=\"1\"}"), [("2".into(), 20.0)]);
    assert_eq!(vector("a unless b"), [("1".into(), 10.0)]);
    assert_eq!(vector("time() - a > 85"), [("1".into(), 90.0)]);
    assert_eq!(vector("a{x=~\"2|3\"}"), [("2".into(), 20.0)]);
    assert_eq!(
        eval_str("(time() - 40) / 2", &s, 100.0).unwrap(),
        Value::Scalar(30.0)
    );
    assert!(
        eval_str("max by (x) (a)", &s, 0.0).is_err(),
        "unsupported is an error"
    );
    assert!(eval_str("a + on (y) b", &s, 0.0).is_err(), "many-to-one");
}
