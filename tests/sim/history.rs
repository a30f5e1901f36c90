//! Backup history: the daily automatic backups a cloud already made, listed with the documented
//! fields, types and each service's time layout, a day apart, finished, newest first.

use std::time::Duration;

use hwcloud_backup_operator::sim::SeedService;
use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use serde_json::Value;

use crate::helper::{Req, cfg, start};

const TOOK: Duration = Duration::from_secs(75);
const DAY: i64 = 24 * 3600;

/// A time written in `layout` (strftime), read back as an instant.
fn parse(raw: &Value, layout: &str) -> Timestamp {
    let raw = raw.as_str().unwrap_or_else(|| panic!("a time: {raw}"));
    match Timestamp::strptime(layout, raw) {
        Ok(t) => t,
        // A layout without an offset is UTC.
        Err(_) => DateTime::strptime(layout, raw)
            .and_then(|d| d.to_zoned(TimeZone::UTC))
            .map(|z| z.timestamp())
            .unwrap_or_else(|e| panic!("{raw:?} is not {layout}: {e}")),
    }
}

/// Every record is finished, took `TOOK`, and started a day before the one listed before it.
#[track_caller]
fn assert_daily(records: &[Value], begin: &str, end: &str, layout: &str) {
    assert_eq!(records.len(), 3, "{records:?}");
    let starts: Vec<Timestamp> = records.iter().map(|r| parse(&r[begin], layout)).collect();
    for (r, started) in records.iter().zip(&starts) {
        let took = parse(&r[end], layout).duration_since(*started);
        assert_eq!(took.as_secs(), TOOK.as_secs() as i64, "{r}");
    }
    for pair in starts.windows(2) {
        let apart = pair[0].duration_since(pair[1]).as_secs();
        assert!(
            (DAY - 1..=DAY + 1).contains(&apart),
            "newest first, a day apart: {starts:?}"
        );
    }
    let newest = Timestamp::now().duration_since(starts[0]).as_secs();
    assert!(
        (DAY - 5..=DAY + 5).contains(&newest),
        "yesterday: {starts:?}"
    );
}

#[tokio::test]
async fn dcs_history_lists_as_finished_automatic_backups() {
    let (sim, c) = start(cfg(Duration::from_millis(200))).await;
    sim.seed_dcs_history("redis-h", 3, TOOK);
    for ver in ["v2", "v1.0"] {
        let r = c.call(Req::get(c.dcs(ver, "redis-h", "backups"))).await;
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
        let page = r.json()["backup_record_response"].clone();
        let records = page.as_array().expect("records");
        for b in records {
            assert_eq!(
                (b["status"].as_str(), b["backup_type"].as_str()),
                (Some("succeed"), Some("auto"))
            );
            assert_eq!(b["progress"], "100.00");
        }
        assert_daily(records, "created_at", "updated_at", "%Y-%m-%dT%H:%M:%S%.fZ");
    }
}

#[tokio::test]
async fn dds_and_taurus_history_list_as_finished_automatic_backups() {
    let (sim, c) = start(cfg(Duration::from_millis(200))).await;
    sim.seed_db_history(SeedService::Dds, "mongo-h", 3, TOOK);
    sim.seed_db_history(SeedService::Taurus, "taurus-h", 3, TOOK);
    let cases = [
        ("dds", "mongo-h", "Auto", "%Y-%m-%d %H:%M:%S"),
        ("taurus", "taurus-h", "auto", "%Y-%m-%dT%H:%M:%S%z"),
    ];
    for (svc, instance, kind, layout) in cases {
        let r = c
            .call(Req::get(c.v3(svc, "backups")).query(&format!("instance_id={instance}")))
            .await;
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
        let list = r.json()["backups"].clone();
        let records = list.as_array().expect("backups");
        for b in records {
            assert_eq!(
                (b["status"].as_str(), b["type"].as_str()),
                (Some("COMPLETED"), Some(kind))
            );
            assert_eq!(b["instance_id"], instance);
        }
        assert_daily(records, "begin_time", "end_time", layout);
    }
    // No job: the cloud ran them on its own, no call started them.
    assert!(sim.backups().iter().all(|b| b.job_id.is_none()));
}
