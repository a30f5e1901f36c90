//! DDS and TaurusDB: create, validation, uniqueness, busy codes, jobs over time, list, delete.

use std::time::Duration;

use hwcloud_backup_operator::sim::SimConfig;
use serde_json::{Value, json};

use crate::helper::{Client, Reply, Req, cfg, start};

/// Creates a backup on `svc` ("dds" or "taurus") in each service's own request shape.
async fn create(c: &Client, svc: &str, iid: &str, name: &str, desc: &str) -> Reply {
    match svc {
        "dds" => {
            let body = json!({"backup": {"instance_id": iid, "name": name, "description": desc}});
            c.call(Req::post(c.v3("dds", "backups"), body)).await
        }
        _ => {
            let body = json!({"instance_id": iid, "name": name, "description": desc});
            c.call(Req::post(c.v3("taurus", "backups/create"), body))
                .await
        }
    }
}

async fn job(c: &Client, svc: &str, id: &str) -> Reply {
    c.call(Req::get(c.v3(svc, "jobs")).query(&format!("id={id}")))
        .await
}

async fn list(c: &Client, svc: &str, query: &str) -> Value {
    let r = c.call(Req::get(c.v3(svc, "backups")).query(query)).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    r.json()
}

#[tokio::test]
async fn dds_backup_job_runs_to_completed_and_the_backup_lists_in_kb() {
    let (sim, c) = start(cfg(Duration::from_millis(1000))).await;
    let r = create(&c, "dds", "dds-inst-1", "nightly-1", "before upgrade").await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let (job_id, backup_id) = (
        r.json()["job_id"].as_str().unwrap().to_string(),
        r.json()["backup_id"].as_str().unwrap().to_string(),
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    let j = job(&c, "dds", &job_id).await.json()["job"].clone();
    assert_eq!(j["status"], "Running");
    assert!(j["progress"].as_str().unwrap().ends_with('%'), "{j}");
    assert_eq!(j["instance"]["id"], "dds-inst-1");
    assert!(j["instance"]["name"].is_string());
    assert!(j.get("process").is_none());
    let b = list(&c, "dds", &format!("backup_id={backup_id}")).await;
    assert_eq!(b["total_count"], 1);
    assert_eq!(b["backups"][0]["status"], "BUILDING");
    assert_eq!(b["backups"][0]["size"], 0.0);
    tokio::time::sleep(Duration::from_millis(700)).await;
    let j = job(&c, "dds", &job_id).await.json()["job"].clone();
    assert_eq!(j["status"], "Completed");
    assert_eq!(j["progress"], "");
    assert!(j["ended"].is_string());
    let b = &list(&c, "dds", "instance_id=dds-inst-1").await["backups"][0];
    assert_eq!(b["status"], "COMPLETED");
    assert_eq!(b["size"], 5120.0, "KB");
    assert_eq!(b["type"], "Manual");
    assert_eq!(b["name"], "nightly-1");
    assert_eq!(b["description"], "before upgrade");
    assert_eq!(b["instance_name"], j["instance"]["name"]);
    for f in ["begin_time", "end_time"] {
        assert!(b[f].is_string(), "{f}");
    }
    assert_eq!(sim.backups()[0].job_id.as_deref(), Some(job_id.as_str()));
}

#[tokio::test]
async fn taurus_backup_is_201_pending_then_running_with_process_and_lists_in_mb() {
    let (_sim, c) = start(cfg(Duration::from_secs(2))).await;
    let r = create(&c, "taurus", "tdb-in07", "nightly-1", "").await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let body = r.json();
    assert_eq!(body["backup"]["status"], "BUILDING");
    assert_eq!(body["backup"]["type"], "manual");
    assert_eq!(body["backup"]["instance_id"], "tdb-in07");
    let job_id = body["job_id"].as_str().unwrap().to_string();
    let j = job(&c, "taurus", &job_id).await.json()["job"].clone();
    assert_eq!(j["status"], "Pending");
    assert!(j.get("progress").is_none() && j["process"] == "", "{j}");
    tokio::time::sleep(Duration::from_millis(800)).await;
    let j = job(&c, "taurus", &job_id).await.json()["job"].clone();
    assert_eq!(j["status"], "Running");
    assert!(j["process"].as_str().unwrap().ends_with('%'));
    tokio::time::sleep(Duration::from_millis(1300)).await;
    assert_eq!(
        job(&c, "taurus", &job_id).await.json()["job"]["status"],
        "Completed"
    );
    let b = &list(&c, "taurus", "").await["backups"][0];
    assert_eq!(b["status"], "COMPLETED");
    assert_eq!(b["size"], 5.0, "MB");
    assert_eq!(b["take_up_time"], 1);
    assert_eq!(b["datastore"]["type"], "gaussdb-mysql");
}

#[tokio::test]
async fn names_descriptions_and_uniqueness_are_validated_on_both_services() {
    let (sim, c) = start(cfg(Duration::ZERO)).await;
    for svc in ["dds", "taurus"] {
        for bad in ["abc", "1abc", "a b c d", &"a".repeat(65)] {
            let r = create(&c, svc, "i", bad, "").await;
            assert_eq!(
                (r.status, r.code().as_str()),
                (400, "DBS.280277"),
                "{svc} {bad}"
            );
        }
        for bad in ["a<b", "x=y", "it's", &"d".repeat(257)] {
            let r = create(&c, svc, "i", "good-name", bad).await;
            assert_eq!(
                (r.status, r.code().as_str()),
                (400, "DBS.280127"),
                "{svc} {bad}"
            );
        }
        let r = create(&c, svc, "i", "unique_1", "ok").await;
        assert!(r.status == 200 || r.status == 201);
        let r = create(&c, svc, "other-instance", "unique_1", "ok").await;
        assert_eq!((r.status, r.code().as_str()), (400, "DBS.201201"), "{svc}");
    }
    assert_eq!(sim.backups().len(), 2, "rejected calls change nothing");
    let r = c
        .call(Req::post(c.v3("dds", "backups"), json!({"name": "x"})))
        .await;
    assert_eq!((r.status, r.code().as_str()), (400, "DBS.200001"));
}

#[tokio::test]
async fn one_backup_per_instance_with_each_services_busy_code() {
    let (_sim, c) = start(cfg(Duration::from_secs(5))).await;
    assert_eq!(create(&c, "dds", "i", "first", "").await.status, 200);
    let r = create(&c, "dds", "i", "second", "").await;
    assert_eq!((r.status, r.code().as_str()), (403, "DBS.200019"));
    assert_eq!(create(&c, "dds", "j", "third", "").await.status, 200);
    assert_eq!(create(&c, "taurus", "i", "first", "").await.status, 201);
    let r = create(&c, "taurus", "i", "second", "").await;
    assert_eq!((r.status, r.code().as_str()), (409, "DBS.201205"));
}

#[tokio::test]
async fn unknown_jobs_are_400_and_young_jobs_404() {
    let (_sim, c) = start(SimConfig {
        job_visibility_delay: Duration::from_millis(1000),
        backup_duration: Duration::from_secs(5),
        ..SimConfig::default()
    })
    .await;
    for svc in ["dds", "taurus"] {
        let r = job(&c, svc, "no-such-job").await;
        assert_eq!((r.status, r.code().as_str()), (400, "DBS.200543"), "{svc}");
    }
    let r = create(&c, "dds", "i", "young-job", "").await;
    let job_id = r.json()["job_id"].as_str().unwrap().to_string();
    let r = job(&c, "dds", &job_id).await;
    assert_eq!((r.status, r.code().as_str()), (404, "DBS.200543"));
    let r = job(&c, "taurus", &job_id).await;
    assert_eq!(r.status, 400, "a DDS job is unknown to TaurusDB");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(job(&c, "dds", &job_id).await.status, 200);
    let r = c.call(Req::get(c.v3("dds", "jobs"))).await;
    assert_eq!((r.status, r.code().as_str()), (400, "DBS.200001"));
}

#[tokio::test]
async fn listing_filters_and_pages() {
    let (_sim, c) = start(cfg(Duration::ZERO)).await;
    for (i, iid) in ["a", "a", "b"].iter().enumerate() {
        let r = create(&c, "dds", iid, &format!("backup-{i}"), "").await;
        assert_eq!(r.status, 200);
    }
    assert_eq!(list(&c, "dds", "instance_id=a").await["total_count"], 2);
    assert_eq!(
        list(&c, "dds", "backup_name=backup-2").await["total_count"],
        1
    );
    let p = list(&c, "dds", "offset=1&limit=1").await;
    assert_eq!(p["total_count"], 3);
    assert_eq!(p["backups"].as_array().unwrap().len(), 1);
    assert_eq!(p["backups"][0]["name"], "backup-1", "newest first");
    assert_eq!(
        list(&c, "taurus", "").await["total_count"],
        0,
        "services are separate"
    );
    let r = c
        .call(Req::get(c.v3("dds", "backups")).query("limit=101"))
        .await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn dds_delete_is_a_job_and_the_backup_is_disabled_until_it_ends() {
    let (_sim, c) = start(cfg(Duration::from_millis(1200))).await;
    let r = create(&c, "dds", "i", "to-delete", "").await;
    let id = r.json()["backup_id"].as_str().unwrap().to_string();
    let path = c.v3("dds", &format!("backups/{id}"));
    let r = c.call(Req::delete(path.clone())).await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (403, "DBS.200019"),
        "still building"
    );
    tokio::time::sleep(Duration::from_millis(1300)).await;
    let r = c.call(Req::delete(path.clone())).await;
    assert_eq!(r.status, 200);
    let job_id = r.json()["job_id"].as_str().unwrap().to_string();
    assert_eq!(
        list(&c, "dds", "").await["backups"][0]["status"],
        "DISABLED"
    );
    assert_eq!(
        job(&c, "dds", &job_id).await.json()["job"]["name"],
        "Delete backup"
    );
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(
        job(&c, "dds", &job_id).await.json()["job"]["status"],
        "Completed"
    );
    assert_eq!(list(&c, "dds", "").await["total_count"], 0);
    let r = c.call(Req::delete(path)).await;
    assert_eq!((r.status, r.code().as_str()), (400, "DBS.201502"));
    let r = create(&c, "dds", "i", "to-delete", "").await;
    assert_eq!(r.status, 200, "the name is free again");
}

#[tokio::test]
async fn taurus_delete_is_synchronous() {
    let (_sim, c) = start(cfg(Duration::from_millis(800))).await;
    let r = create(&c, "taurus", "i", "to-delete", "").await;
    let id = r.json()["backup"]["id"].as_str().unwrap().to_string();
    let path = c.v3("taurus", &format!("backups/{id}"));
    let r = c.call(Req::delete(path.clone())).await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (400, "DBS.201208"),
        "still building"
    );
    tokio::time::sleep(Duration::from_millis(900)).await;
    let r = c.call(Req::delete(path.clone())).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json(),
        json!({"backup_id": id, "backup_name": "to-delete"})
    );
    assert_eq!(list(&c, "taurus", "").await["total_count"], 0);
    let r = c.call(Req::delete(path)).await;
    assert_eq!((r.status, r.code().as_str()), (404, "DBS.201010"));
}

#[tokio::test]
async fn failing_instances_fail_jobs_and_backups() {
    let (sim, c) = start(cfg(Duration::ZERO)).await;
    let iid = sim.config().failing_instances[0].clone();
    let r = create(&c, "dds", &iid, "doomed", "").await;
    let j = job(&c, "dds", r.json()["job_id"].as_str().unwrap())
        .await
        .json()["job"]
        .clone();
    assert_eq!(j["status"], "Failed");
    assert!(j["fail_reason"].as_str().is_some_and(|s| !s.is_empty()));
    assert_eq!(list(&c, "dds", "").await["backups"][0]["status"], "FAILED");
}
