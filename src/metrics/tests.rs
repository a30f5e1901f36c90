//! Tests of the metric families: their names, labels and values as Prometheus reads them.

use super::*;

fn line_value(text: &str, prefix: &str) -> f64 {
    let line = text
        .lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line {prefix}\n{text}"));
    line.rsplit(' ').next().unwrap().parse().unwrap()
}

#[test]
fn encodes_families_and_labels() {
    let m = Metrics::new();
    {
        let _t = m.reconcile_timer("dcsbackup");
        let _t2 = m.reconcile_timer("dcsbackup");
    }
    m.reconcile_error("dcsbackup", "Throttled");
    m.observe_cloud_call("dcs", "create_backup", "ok", Duration::from_millis(120));
    m.observe_cloud_call(
        "dcs",
        "create_backup",
        "throttled",
        Duration::from_millis(30),
    );
    m.set_phase_counts("DcsBackup", &[("Running", 3), ("Succeeded", 7)]);
    m.backup_succeeded("DcsBackup", 1_700_000_100);
    m.backup_succeeded("DcsBackup", 1_700_000_000);
    m.set_leader(true);

    let text = m.encode();
    assert!(text.ends_with("# EOF\n"), "not OpenMetrics:\n{text}");
    assert_eq!(
        line_value(
            &text,
            r#"hwcloud_backup_reconcile_total{controller="dcsbackup"}"#
        ),
        2.0
    );
    assert_eq!(
        line_value(
            &text,
            r#"hwcloud_backup_reconcile_errors_total{controller="dcsbackup",reason="Throttled"}"#
        ),
        1.0
    );
    assert_eq!(
        line_value(
            &text,
            r#"hwcloud_backup_reconcile_duration_seconds_count{controller="dcsbackup"}"#
        ),
        2.0
    );
    assert!(text.contains("# TYPE hwcloud_backup_reconcile_duration_seconds histogram"));
    assert_eq!(
        line_value(
            &text,
            r#"hwcloud_backup_cloud_requests_total{service="dcs",operation="create_backup",outcome="throttled"}"#
        ),
        1.0
    );
    assert_eq!(
        line_value(
            &text,
            r#"hwcloud_backup_cloud_request_duration_seconds_count{service="dcs",operation="create_backup"}"#
        ),
        2.0
    );
    let sum = line_value(
        &text,
        r#"hwcloud_backup_cloud_request_duration_seconds_sum{service="dcs",operation="create_backup"}"#,
    );
    assert!((sum - 0.15).abs() < 1e-9, "sum {sum}");
    assert_eq!(
        line_value(
            &text,
            r#"hwcloud_backup_resources{kind="DcsBackup",phase="Succeeded"}"#
        ),
        7.0
    );
    assert_eq!(
        line_value(
            &text,
            r#"hwcloud_backup_resources{kind="DcsBackup",phase="Running"}"#
        ),
        3.0
    );
    // The older success reported second must not move the gauge back.
    assert_eq!(
        line_value(
            &text,
            r#"hwcloud_backup_last_success_timestamp_seconds{kind="DcsBackup"}"#
        ),
        1_700_000_100.0
    );
    assert_eq!(line_value(&text, "hwcloud_backup_leader "), 1.0);
    // The chart's alerts and dashboard are checked against series_names(): it lists every encoded series.
    let samples = text.lines().filter(|l| !l.starts_with('#'));
    for name in samples.filter_map(|l| l.split(['{', ' ']).next()) {
        assert!(m.series_names().iter().any(|s| s == name), "{name}");
    }
}

#[test]
fn phase_counts_overwrite_and_leader_clears() {
    let m = Metrics::new();
    m.set_phase_counts("DdsBackup", &[("Running", 2)]);
    m.set_phase_counts("DdsBackup", &[("Running", 0), ("Failed", 1)]);
    m.set_leader(true);
    m.set_leader(false);
    let text = m.encode();
    assert_eq!(
        line_value(
            &text,
            r#"hwcloud_backup_resources{kind="DdsBackup",phase="Running"}"#
        ),
        0.0
    );
    assert_eq!(
        line_value(
            &text,
            r#"hwcloud_backup_resources{kind="DdsBackup",phase="Failed"}"#
        ),
        1.0
    );
    assert_eq!(line_value(&text, "hwcloud_backup_leader "), 0.0);
}

#[test]
fn a_sharded_replica_labels_every_series_with_its_selector() {
    let m = Metrics::for_shard(Some("backup.hwcloud.dev/shard=a"));
    m.set_leader(true);
    m.set_phase_counts("dcsbackup", &[("Running", 2)]);
    drop(m.reconcile_timer("dcsbackup"));
    let text = m.encode();
    let shard = r#"shard="backup.hwcloud.dev/shard=a""#;
    assert_eq!(
        line_value(&text, &format!("hwcloud_backup_leader{{{shard}}}")),
        1.0
    );
    assert_eq!(
        line_value(
            &text,
            &format!(r#"hwcloud_backup_resources{{{shard},kind="dcsbackup",phase="Running"}}"#)
        ),
        2.0
    );
    let samples: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
    assert!(samples.len() > 3);
    for line in samples {
        assert!(line.contains(shard), "{line}");
    }
    // Without a selector there is no shard label at all, as before sharding existed.
    let plain = Metrics::new();
    plain.set_leader(true);
    assert!(!plain.encode().contains("shard="));
}

#[test]
fn timer_records_elapsed_time_on_drop() {
    let m = Metrics::new();
    let t = m.reconcile_timer("ddsbackup");
    std::thread::sleep(Duration::from_millis(20));
    drop(t);
    let sum = line_value(
        &m.encode(),
        r#"hwcloud_backup_reconcile_duration_seconds_sum{controller="ddsbackup"}"#,
    );
    assert!(sum >= 0.02, "sum {sum}");
}
