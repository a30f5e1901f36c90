//! DCS v2 and v1.0: records, progress over time, busy codes, single-node refusal, deletion, restore.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helper::{Client, Req, cfg, start};

async fn create(c: &Client, ver: &str, iid: &str) -> String {
    let r = c
        .call(Req::post(
            c.dcs(ver, iid, "backups"),
            json!({"remark": "nightly"}),
        ))
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    r.json()["backup_id"].as_str().unwrap().to_string()
}

async fn record(c: &Client, ver: &str, iid: &str, kind: &str, key: &str, id: &str) -> Value {
    let r = c
        .call(Req::get(c.dcs(ver, iid, kind)).query("limit=1000"))
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    r.json()[format!("{kind_}_record_response", kind_ = &kind[..kind.len() - 1])]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b[key] == id)
        .cloned()
        .unwrap_or_else(|| panic!("{id} not listed"))
}

#[tokio::test]
async fn backup_progresses_from_waiting_to_succeed_with_documented_fields() {
    let (sim, c) = start(cfg(Duration::from_secs(3))).await;
    let id = create(&c, "v2", "inst-1").await;
    let b = record(&c, "v2", "inst-1", "backups", "backup_id", &id).await;
    assert_eq!(b["status"], "waiting");
    assert_eq!(b["progress"], "0.00");
    assert_eq!(b["error_code"], json!({}), "documented quirk");
    assert_eq!(b["period"], json!({}));
    assert_eq!(b["size"], 0);
    assert_eq!(b["remark"], "nightly");
    assert_eq!(b["backup_format"], "rdb");
    assert_eq!(b["is_support_restore"], "FALSE");
    for field in [
        "backup_name",
        "instance_id",
        "backup_type",
        "created_at",
        "updated_at",
        "execution_at",
    ] {
        assert!(b[field].is_string(), "{field} in {b}");
    }
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let b = record(&c, "v2", "inst-1", "backups", "backup_id", &id).await;
    assert_eq!(b["status"], "backuping");
    let p: f64 = b["progress"].as_str().unwrap().parse().unwrap();
    assert!(p > 10.0 && p < 100.0, "{p}");
    tokio::time::sleep(Duration::from_millis(2000)).await;
    let b = record(&c, "v2", "inst-1", "backups", "backup_id", &id).await;
    assert_eq!(b["status"], "succeed");
    assert_eq!(b["progress"], "100.00");
    assert_eq!(b["size"], 5 * 1024 * 1024);
    assert_eq!(b["is_support_restore"], "TRUE");
    let seen = sim.backups();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].status, "succeed");
    assert!(seen[0].completed_at.is_some());
}

#[tokio::test]
async fn aof_format_is_kept_and_bad_formats_refused() {
    let (_sim, c) = start(cfg(Duration::ZERO)).await;
    let r = c
        .call(Req::post(
            c.dcs("v2", "i", "backups"),
            json!({"backup_format": "aof"}),
        ))
        .await;
    let id = r.json()["backup_id"].as_str().unwrap().to_string();
    let b = record(&c, "v2", "i", "backups", "backup_id", &id).await;
    assert_eq!(b["backup_format"], "aof");
    let r = c
        .call(Req::post(
            c.dcs("v2", "i", "backups"),
            json!({"backup_format": "zip"}),
        ))
        .await;
    assert_eq!((r.status, r.code().as_str()), (400, "DCS.4000"));
}

#[tokio::test]
async fn one_operation_per_instance() {
    let (_sim, c) = start(cfg(Duration::from_millis(1500))).await;
    let id = create(&c, "v2", "inst-1").await;
    let r = c
        .call(Req::post(c.dcs("v2", "inst-1", "backups"), json!({})))
        .await;
    assert_eq!((r.status, r.code().as_str()), (400, "DCS.4096"));
    let r = c
        .call(Req::post(
            c.dcs("v2", "inst-1", "restores"),
            json!({"backup_id": id}),
        ))
        .await;
    assert_eq!(r.code(), "DCS.4096");
    let r = c
        .call(Req::post(c.dcs("v1.0", "inst-1", "backups"), json!({})))
        .await;
    assert_eq!(r.json()["error"]["code"], "111400096");
    // Another instance is not affected.
    create(&c, "v2", "inst-2").await;
    tokio::time::sleep(Duration::from_millis(1600)).await;
    let r = c
        .call(Req::post(
            c.dcs("v2", "inst-1", "restores"),
            json!({"backup_id": id, "remark": "r"}),
        ))
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let r = c
        .call(Req::post(c.dcs("v2", "inst-1", "backups"), json!({})))
        .await;
    assert_eq!((r.status, r.code().as_str()), (400, "DCS.4097"));
    let r = c
        .call(Req::post(
            c.dcs("v2", "inst-1", "restores"),
            json!({"backup_id": id}),
        ))
        .await;
    assert_eq!(r.code(), "DCS.4097");
}

#[tokio::test]
async fn single_node_instances_are_refused_in_both_versions() {
    let (sim, c) = start(cfg(Duration::ZERO)).await;
    let iid = sim.config().single_node_instances[0].clone();
    let r = c
        .call(Req::post(c.dcs("v2", &iid, "backups"), json!({})))
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.code(), "DCS.4086");
    assert_eq!(
        r.msg(),
        "only master standby instance is support this action"
    );
    let r = c
        .call(Req::post(c.dcs("v1.0", &iid, "backups"), json!({})))
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json(),
        json!({"error": {"code": "111400086", "message": "only master standby instance is support this action"}})
    );
    let r = c
        .call(Req::post(
            c.dcs("v2", &iid, "restores"),
            json!({"backup_id": "x"}),
        ))
        .await;
    assert_eq!(r.code(), "DCS.4086");
}

#[tokio::test]
async fn listing_pages_and_204_when_empty() {
    let (_sim, c) = start(cfg(Duration::ZERO)).await;
    let r = c.call(Req::get(c.dcs("v2", "i", "backups"))).await;
    assert_eq!(r.status, 204);
    assert!(r.body.is_empty());
    let r = c.call(Req::get(c.dcs("v1.0", "i", "backups"))).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["total_num"], 0);
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(create(&c, "v2", "i").await);
    }
    let r = c
        .call(Req::get(c.dcs("v2", "i", "backups")).query("offset=1&limit=1"))
        .await;
    let page = &r.json()["backup_record_response"];
    assert_eq!(r.json()["total_num"], 3);
    assert_eq!(page.as_array().unwrap().len(), 1);
    assert_eq!(page[0]["backup_id"], ids[1].as_str(), "newest first");
    let r = c
        .call(Req::get(c.dcs("v1.0", "i", "backups")).query("start=3&limit=5"))
        .await;
    let page = r.json()["backup_record_response"].clone();
    assert_eq!(page.as_array().unwrap().len(), 1);
    assert_eq!(page[0]["backup_id"], ids[0].as_str());
    let r = c
        .call(Req::get(c.dcs("v2", "i", "backups")).query("limit=1001"))
        .await;
    assert_eq!((r.status, r.code().as_str()), (400, "DCS.4000"));
    let r = c
        .call(Req::get(c.dcs("v1.0", "i", "backups")).query("start=0"))
        .await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn deleted_backups_stay_listed_and_status_codes_differ_per_version() {
    let (_sim, c) = start(cfg(Duration::ZERO)).await;
    let a = create(&c, "v2", "i").await;
    let b = create(&c, "v1.0", "i").await;
    let r = c
        .call(Req::delete(c.dcs("v2", "i", &format!("backups/{a}"))))
        .await;
    assert_eq!(r.status, 204);
    assert!(r.body.is_empty());
    let r = c
        .call(Req::delete(c.dcs("v1.0", "i", &format!("backups/{b}"))))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!({"message": ""}));
    let rec = record(&c, "v2", "i", "backups", "backup_id", &a).await;
    assert_eq!(rec["status"], "deleted");
    let r = c
        .call(Req::delete(c.dcs("v2", "i", &format!("backups/{a}"))))
        .await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (400, "DCS.4031"),
        "a deleted backup, as the real cloud answers"
    );
    let r = c.call(Req::delete(c.dcs("v2", "i", "backups/nope"))).await;
    assert_eq!((r.status, r.code().as_str()), (400, "DCS.4031"), "unknown");
    let r = c
        .call(Req::delete(c.dcs("v1.0", "i", "backups/nope")))
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"]["code"], "111400031");
}

#[tokio::test]
async fn deleting_a_running_backup_is_refused_as_busy() {
    let (_sim, c) = start(cfg(Duration::from_secs(5))).await;
    let a = create(&c, "v2", "i").await;
    let r = c
        .call(Req::delete(c.dcs("v2", "i", &format!("backups/{a}"))))
        .await;
    assert_eq!((r.status, r.code().as_str()), (400, "DCS.4096"));
}

#[tokio::test]
async fn restore_needs_a_succeeded_backup_and_progresses() {
    let (sim, c) = start(cfg(Duration::from_secs(2))).await;
    let r = c
        .call(Req::post(c.dcs("v2", "i", "restores"), json!({})))
        .await;
    assert_eq!((r.status, r.code().as_str()), (400, "DCS.4000"));
    let r = c
        .call(Req::post(
            c.dcs("v2", "i", "restores"),
            json!({"backup_id": "nope"}),
        ))
        .await;
    assert_eq!((r.status, r.code().as_str()), (400, "DCS.4087"));
    let id = create(&c, "v2", "i").await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let r = c
        .call(Req::post(
            c.dcs("v2", "other", "restores"),
            json!({"backup_id": id}),
        ))
        .await;
    assert_eq!(
        r.code(),
        "DCS.4087",
        "a backup restores only its own instance"
    );
    let r = c
        .call(Req::post(
            c.dcs("v1.0", "i", "restores"),
            json!({"backup_id": id, "remark": "back"}),
        ))
        .await;
    assert_eq!(r.status, 200);
    let rid = r.json()["restore_id"].as_str().unwrap().to_string();
    let rec = record(&c, "v2", "i", "restores", "restore_id", &rid).await;
    assert_eq!(rec["status"], "waiting");
    assert_eq!(rec["restore_remark"], "back");
    assert_eq!(rec["backup_remark"], "nightly");
    assert_eq!(rec["error_code"], json!({}));
    tokio::time::sleep(Duration::from_millis(700)).await;
    let rec = record(&c, "v2", "i", "restores", "restore_id", &rid).await;
    assert_eq!(rec["status"], "restoring");
    tokio::time::sleep(Duration::from_millis(1400)).await;
    let rec = record(&c, "v1.0", "i", "restores", "restore_id", &rid).await;
    assert_eq!(rec["status"], "succeed");
    assert_eq!(rec["sourceInstanceID"], "i");
    let restores = sim.restores();
    assert_eq!(restores.len(), 1);
    assert_eq!(restores[0].backup_id, id);
    assert_eq!(restores[0].status, "succeed");
}

#[tokio::test]
async fn failing_instances_end_failed_with_a_record_error_code() {
    let (sim, c) = start(cfg(Duration::ZERO)).await;
    let iid = sim.config().failing_instances[0].clone();
    let id = create(&c, "v2", &iid).await;
    let b = record(&c, "v2", &iid, "backups", "backup_id", &id).await;
    assert_eq!(b["status"], "failed");
    assert_eq!(b["error_code"], "dcs.08.0002");
}
