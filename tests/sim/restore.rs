//! DDS and TaurusDB restores as the simulator serves them: each service's body and time type, the
//! windows under each service's key, restores and backups keeping each other out, the DDS job
//! list, and the OTC differences.

use std::time::Duration;

use hwcloud_backup_operator::sim::SimConfig;
use jiff::{Timestamp, ToSpan};
use serde_json::{Value, json};

use crate::helper::{Client, Reply, Req, cfg, start};

/// A finished backup of `iid` on `svc`; its id.
async fn finished_backup(c: &Client, svc: &str, iid: &str) -> String {
    let name = format!("b{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let r = match svc {
        "dds" => {
            let body = json!({"backup": {"instance_id": iid, "name": name, "description": ""}});
            c.call(Req::post(c.v3("dds", "backups"), body)).await
        }
        _ => {
            let body = json!({"instance_id": iid, "name": name, "description": ""});
            c.call(Req::post(c.v3("taurus", "backups/create"), body))
                .await
        }
    };
    assert!(r.status < 300, "{}", String::from_utf8_lossy(&r.body));
    let v = r.json();
    let id = v["backup_id"]
        .as_str()
        .or_else(|| v["backup"]["id"].as_str())
        .unwrap()
        .to_string();
    tokio::time::sleep(Duration::from_millis(250)).await;
    id
}

async fn dds_restore(c: &Client, source: Value, target: &str) -> Reply {
    let body = json!({"source": source, "target": {"instance_id": target}});
    c.call(Req::post(c.v3("dds", "instances/recovery"), body))
        .await
}

async fn taurus_restore(c: &Client, body: Value) -> Reply {
    c.call(Req::post(c.v3("taurus", "instances/restore"), body))
        .await
}

async fn windows(c: &Client, svc: &str, iid: &str, date: &str) -> Reply {
    let path = c.v3(svc, &format!("instances/{iid}/restore-time"));
    c.call(Req::get(path).query(&format!("date={date}"))).await
}

#[tokio::test]
async fn a_dds_restore_from_a_backup_runs_as_a_named_job_and_keeps_the_instance_busy() {
    let (sim, c) = start(cfg(Duration::from_millis(200))).await;
    let id = finished_backup(&c, "dds", "dds-r1").await;
    let source = json!({"instance_id": "dds-r1", "type": "backup", "backup_id": id});
    let r = dds_restore(&c, source.clone(), "dds-r1").await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let job = r.json()["job_id"].as_str().unwrap().to_string();

    let again = dds_restore(&c, source.clone(), "dds-r1").await;
    assert_eq!((again.status, again.code()), (403, "DBS.200019".into()));
    let backup = json!({"backup": {"instance_id": "dds-r1", "name": "during", "description": ""}});
    let backup = c.call(Req::post(c.v3("dds", "backups"), backup)).await;
    assert_eq!((backup.status, backup.code()), (403, "DBS.200019".into()));

    let got = c
        .call(Req::get(c.v3("dds", "jobs")).query(&format!("id={job}")))
        .await;
    assert_eq!(
        got.json()["job"]["name"],
        "MongodbRestoreData2CurrentInstance"
    );
    let restores = sim.restores();
    let made = restores.iter().find(|r| r.restore_id == job).unwrap();
    assert_eq!(
        (made.service, made.backup_id.as_str()),
        ("dds", id.as_str())
    );

    // A backup of another instance, a missing one: refused.
    let other = finished_backup(&c, "dds", "dds-r2").await;
    let wrong = json!({"instance_id": "dds-r1", "type": "backup", "backup_id": other});
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_eq!(dds_restore(&c, wrong, "dds-r1").await.code(), "DBS.280124");
    let missing = json!({"instance_id": "dds-r1", "backup_id": "nope"});
    assert_eq!(
        dds_restore(&c, missing, "dds-r1").await.code(),
        "DBS.201214"
    );
}

#[tokio::test]
async fn restore_times_are_a_string_on_dds_and_an_integer_on_taurusdb() {
    let (sim, c) = start(cfg(Duration::from_millis(200))).await;
    let at = Timestamp::now() - 1.hour();
    let ms = at.as_millisecond();
    let src = |t: Value| json!({"instance_id": "dds-p", "type": "timestamp", "restore_time": t});
    assert_eq!(
        dds_restore(&c, src(json!(ms)), "dds-p").await.code(),
        "DBS.200001"
    );
    let ok = dds_restore(&c, src(json!(ms.to_string())), "dds-p").await;
    assert_eq!(ok.status, 200, "{}", String::from_utf8_lossy(&ok.body));
    let job = ok.json()["job_id"].as_str().unwrap().to_string();
    let got = c
        .call(Req::get(c.v3("dds", "jobs")).query(&format!("id={job}")))
        .await;
    assert_eq!(got.json()["job"]["name"], "MongodbPitr2CurrentInstance");

    let flat = |t: Value| {
        json!({"source_instance_id": "tdb-p", "target_instance_id": "tdb-p",
            "type": "timestamp", "restore_time": t})
    };
    let as_string = taurus_restore(&c, flat(json!(ms.to_string()))).await;
    assert_eq!(as_string.code(), "DBS.200001");
    let no_type = json!({"source_instance_id": "tdb-p", "target_instance_id": "tdb-p",
        "restore_time": ms});
    assert_eq!(taurus_restore(&c, no_type).await.code(), "DBS.200001");
    let ok = taurus_restore(&c, flat(json!(ms))).await;
    assert_eq!(ok.status, 202, "{}", String::from_utf8_lossy(&ok.body));
    assert!(
        sim.restores()
            .iter()
            .any(|r| r.service == "taurus" && r.restore_time_ms == Some(ms))
    );
    let busy = taurus_restore(&c, flat(json!(ms))).await;
    assert_eq!((busy.status, busy.code()), (409, "DBS.200019".into()));
}

#[tokio::test]
async fn windows_come_under_each_services_key_and_bound_the_restore() {
    let (sim, c) = start(cfg(Duration::from_millis(200))).await;
    let day: Timestamp = "2026-03-01T00:00:00Z".parse().unwrap();
    let (a, b) = (day + 1.hour(), day + 5.hours());
    let (d, e) = (day + 20.hours(), day + 30.hours());
    for iid in ["dds-w", "tdb-w"] {
        sim.set_restore_windows(iid, vec![(a, b), (d, e)]);
    }
    let dds = windows(&c, "dds", "dds-w", "2026-03-01").await.json();
    let end_of_day = (day + 24.hours()).as_millisecond() - 1;
    assert_eq!(
        dds,
        json!({"restore_time": [
            {"start_time": a.as_millisecond(), "end_time": b.as_millisecond()},
            {"start_time": d.as_millisecond(), "end_time": end_of_day}]})
    );
    let taurus = windows(&c, "taurus", "tdb-w", "2026-03-02").await.json();
    assert_eq!(
        taurus,
        json!({"restore_times": [{"start_time": end_of_day + 1, "end_time": e.as_millisecond()}]})
    );
    let no_date = c
        .call(Req::get(c.v3("dds", "instances/dds-w/restore-time")))
        .await;
    assert_eq!(no_date.code(), "DBS.200001");

    let between = (day + 10.hours()).as_millisecond().to_string();
    let src = json!({"instance_id": "dds-w", "type": "timestamp", "restore_time": between});
    assert_eq!(dds_restore(&c, src, "dds-w").await.code(), "DBS.200001");
}

#[tokio::test]
async fn the_dds_job_list_filters_by_name_and_creation_window() {
    let (_sim, c) = start(cfg(Duration::from_millis(200))).await;
    let id = finished_backup(&c, "dds", "dds-l").await;
    let source = json!({"instance_id": "dds-l", "type": "backup", "backup_id": id});
    let job = dds_restore(&c, source, "dds-l").await.json()["job_id"].clone();
    // `+` is encoded, or the query would read it as a space.
    let fmt = |t: Timestamp| t.strftime("%Y-%m-%dT%H:%M:%S%%2B0000").to_string();
    let now = Timestamp::now();
    let list = |q: String| {
        let c = &c;
        async move {
            let path = format!("/dds/v3.1/{}/jobs", c.pid);
            c.call(Req::get(path).query(&q)).await
        }
    };
    let window = format!(
        "start_time={}&end_time={}",
        fmt(now - 1.minute()),
        fmt(now + 1.minute())
    );
    let named = list(format!("name=MongodbRestoreData2CurrentInstance&{window}")).await;
    assert_eq!(
        named.status,
        200,
        "{}",
        String::from_utf8_lossy(&named.body)
    );
    let jobs = named.json()["jobs"].as_array().cloned().unwrap();
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    assert_eq!(jobs[0]["id"], job);
    assert_eq!(jobs[0]["instance_id"], "dds-l");
    assert!(jobs[0]["created_at"].as_str().unwrap().ends_with("+0000"));
    let all = list(window).await.json();
    assert_eq!(
        all["total_count"], 2,
        "the backup's job and the restore's: {all}"
    );
    let later = format!(
        "start_time={}&end_time={}",
        fmt(now + 1.minute()),
        fmt(now + 2.minutes())
    );
    assert_eq!(list(later).await.json()["total_count"], 0);
    assert_eq!(
        list(format!("start_time={}", fmt(now))).await.code(),
        "DBS.200001"
    );
}

#[tokio::test]
async fn otc_refuses_the_taurusdb_restore_calls_and_the_dds_job_list() {
    let (_sim, c) = start(SimConfig {
        otc: true,
        ..cfg(Duration::from_millis(200))
    })
    .await;
    let id = finished_backup(&c, "taurus", "tdb-o").await;
    let body = json!({"source_instance_id": "tdb-o", "target_instance_id": "tdb-o",
        "type": "backup", "backup_id": id});
    let r = taurus_restore(&c, body).await;
    assert_eq!((r.status, r.code()), (404, "APIGW.0101".into()));
    let w = windows(&c, "taurus", "tdb-o", "2026-03-01").await;
    assert_eq!((w.status, w.code()), (404, "APIGW.0101".into()));
    let jobs = c.call(Req::get(format!("/dds/v3.1/{}/jobs", c.pid))).await;
    assert_eq!((jobs.status, jobs.code()), (404, "APIGW.0101".into()));
    // DDS restores themselves are documented on OTC.
    let id = finished_backup(&c, "dds", "dds-o").await;
    let source = json!({"instance_id": "dds-o", "backup_id": id});
    assert_eq!(dds_restore(&c, source, "dds-o").await.status, 200);
}
