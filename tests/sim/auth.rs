//! Gateway behaviour: signatures, dates, AK lock, tokens, project checks, request ids.

use std::time::Duration;

use hwcloud_backup_operator::sim::SimConfig;
use serde_json::json;

use crate::helper::{Req, cfg, start};

fn backups(c: &crate::helper::Client) -> String {
    c.dcs("v2", "inst-1", "backups")
}

#[tokio::test]
async fn valid_signature_is_accepted_and_every_answer_has_a_request_id() {
    let (_sim, c) = start(cfg(Duration::from_secs(5))).await;
    let r = c.call(Req::post(backups(&c), json!({"remark": "x"}))).await;
    assert_eq!(r.status, 200, "{:?}", r.json());
    assert!(
        r.json()["backup_id"]
            .as_str()
            .is_some_and(|s| !s.is_empty())
    );
    assert!(r.headers.contains_key("x-request-id"));
    let bad = c.call(Req::get(backups(&c)).unsigned()).await;
    assert_eq!(bad.status, 401);
    assert!(bad.headers.contains_key("x-request-id"));
    let unknown = c.call(Req::get("/nowhere")).await;
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.code(), "APIGW.0101");
    assert!(unknown.headers.contains_key("x-request-id"));
}

#[tokio::test]
async fn signature_covers_query_and_percent_encoded_values() {
    let (_sim, c) = start(cfg(Duration::from_secs(5))).await;
    c.call(Req::post(backups(&c), json!({}))).await;
    let r = c
        .call(Req::get(backups(&c)).query("offset=0&limit=5&begin_time=2026%2001"))
        .await;
    assert_eq!(r.status, 200, "{:?}", String::from_utf8_lossy(&r.body));
}

#[tokio::test]
async fn one_tampered_body_byte_is_rejected() {
    let (sim, c) = start(cfg(Duration::from_secs(5))).await;
    let r = c
        .call(Req::post(backups(&c), json!({"remark": "abc"})).tampered())
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.code(), "APIGW.0301");
    assert!(r.msg().contains("signature"), "{}", r.msg());
    assert!(
        sim.backups().is_empty(),
        "no state change on a rejected call"
    );
}

#[tokio::test]
async fn dates_more_than_15_minutes_off_are_rejected_either_way() {
    let (_sim, c) = start(cfg(Duration::from_secs(5))).await;
    for offset in [-20 * 60, 20 * 60] {
        let r = c.call(Req::get(backups(&c)).date_offset(offset)).await;
        assert_eq!(r.status, 401);
        assert_eq!(r.code(), "APIGW.0301");
        assert!(r.msg().contains("15 minutes"), "{}", r.msg());
    }
    let r = c.call(Req::get(backups(&c)).date_offset(-10 * 60)).await;
    assert_ne!(r.status, 401, "10 minutes of skew is tolerated");
}

#[tokio::test]
async fn wrong_secret_unknown_ak_and_garbage_headers_are_told_apart() {
    let (_sim, c) = start(cfg(Duration::from_secs(5))).await;
    let r = c.call(Req::get(backups(&c)).keys("NOSUCHAK", "x")).await;
    assert_eq!((r.status, r.code().as_str()), (401, "APIGW.0301"));
    assert!(r.msg().contains("access key does not exist"), "{}", r.msg());
    let r = c.call(Req::get(backups(&c)).keys(&c.ak, "wrong")).await;
    assert!(
        r.msg().contains("verify aksk signature fail"),
        "{}",
        r.msg()
    );
    let r = c
        .call(
            Req::get(backups(&c))
                .unsigned()
                .header("authorization", "Bearer x"),
        )
        .await;
    assert_eq!(r.status, 401);
    assert!(r.msg().contains("malformed"), "{}", r.msg());
}

#[tokio::test]
async fn five_failures_lock_the_ak_until_the_window_passes() {
    let (_sim, c) = start(SimConfig {
        ak_lock_duration: Duration::from_millis(700),
        ..SimConfig::default()
    })
    .await;
    for _ in 0..5 {
        let r = c.call(Req::get(backups(&c)).keys(&c.ak, "wrong")).await;
        assert!(r.msg().contains("signature"), "{}", r.msg());
    }
    let locked = c.call(Req::get(backups(&c))).await;
    assert_eq!(locked.status, 401);
    assert_eq!(locked.code(), "APIGW.0301");
    assert_eq!(
        locked.msg(),
        "AK access failed to reach the limit, forbidden"
    );
    tokio::time::sleep(Duration::from_millis(800)).await;
    let ok = c.call(Req::get(backups(&c))).await;
    assert_eq!(ok.status, 204, "unlocked again after the window");
}

#[tokio::test]
async fn a_success_resets_the_failure_count() {
    let (_sim, c) = start(SimConfig::default()).await;
    for _ in 0..4 {
        c.call(Req::get(backups(&c)).keys(&c.ak, "wrong")).await;
    }
    assert_eq!(c.call(Req::get(backups(&c))).await.status, 204);
    for _ in 0..4 {
        c.call(Req::get(backups(&c)).keys(&c.ak, "wrong")).await;
    }
    assert_eq!(c.call(Req::get(backups(&c))).await.status, 204);
}

#[tokio::test]
async fn project_id_must_match_in_path_and_header() {
    let (_sim, c) = start(SimConfig::default()).await;
    let r = c
        .call(Req::get("/dcs/v2/otherproject/instances/i/backups"))
        .await;
    assert_eq!((r.status, r.code().as_str()), (401, "APIGW.0301"));
    assert!(r.msg().contains("project id mismatch"), "{}", r.msg());
    let r = c
        .call(Req::get(backups(&c)).header("x-project-id", "otherproject"))
        .await;
    assert!(r.msg().contains("project id mismatch"), "{}", r.msg());
    let pid = c.pid.clone();
    let r = c
        .call(Req::get(backups(&c)).header("x-project-id", &pid))
        .await;
    assert_eq!(r.status, 204);
}
