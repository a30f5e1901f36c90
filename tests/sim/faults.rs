//! Fault injection and the call log.

use std::time::{Duration, Instant};

use hwcloud_backup_operator::sim::{Faults, SimCall, SimConfig};
use serde_json::json;

use crate::helper::{Req, start};

#[tokio::test]
async fn error_rate_one_gives_only_429_and_500_and_changes_nothing() {
    let (sim, c) = start(SimConfig::default()).await;
    sim.set_faults(Faults {
        error_rate: 1.0,
        ..Faults::default()
    });
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..30 {
        let r = c
            .call(Req::post(c.dcs("v2", "i", "backups"), json!({})))
            .await;
        match r.status {
            429 => {
                assert_eq!(r.code(), "APIGW.0308");
                assert!(
                    r.msg()
                        .starts_with("The throttling threshold has been reached")
                );
            }
            500 => assert_eq!(r.code(), "SYS.0500"),
            other => panic!("unexpected {other}"),
        }
        assert!(r.headers.contains_key("x-request-id"));
        seen.insert(r.status);
    }
    assert_eq!(seen.len(), 2, "both kinds show up in 30 calls: {seen:?}");
    assert!(
        sim.backups().is_empty(),
        "faults come before any state change"
    );
    sim.set_faults(Faults::default());
    assert_eq!(
        c.call(Req::post(c.dcs("v2", "i", "backups"), json!({})))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn errors_in_turn_are_429_500_and_a_gateways_html_502() {
    let (sim, c) = start(SimConfig::default()).await;
    sim.set_faults(Faults {
        error_rate: 1.0,
        in_turn_with_bad_gateway: true,
        ..Faults::default()
    });
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let r = c
            .call(Req::post(c.dcs("v2", "i", "backups"), json!({})))
            .await;
        if r.status == 502 {
            let kind = r.headers.get("content-type").and_then(|v| v.to_str().ok());
            assert_eq!(kind, Some("text/html"));
            let page = String::from_utf8_lossy(&r.body);
            assert!(page.contains("502 Bad Gateway"), "{page}");
            assert!(
                serde_json::from_slice::<serde_json::Value>(&r.body).is_err(),
                "not JSON"
            );
        }
        statuses.push(r.status);
    }
    assert_eq!(statuses, [429, 500, 502, 429, 500, 502]);
    assert!(sim.backups().is_empty());
}

#[tokio::test]
async fn drop_rate_one_closes_connections_and_the_server_survives() {
    let (sim, c) = start(SimConfig::default()).await;
    sim.set_faults(Faults {
        drop_rate: 1.0,
        ..Faults::default()
    });
    for _ in 0..5 {
        let err = c
            .try_call(Req::get(c.dcs("v2", "i", "backups")))
            .await
            .expect_err("no answer expected");
        // hyper's IncompleteMessage: the connection closed before any response.
        assert!(
            !err.is_timeout() && format!("{err:?}").contains("IncompleteMessage"),
            "closed without an answer, not hung: {err:?}"
        );
    }
    assert!(sim.calls().iter().all(|call| call.status == 0));
    sim.set_faults(Faults::default());
    let r = c.call(Req::get(c.dcs("v2", "i", "backups"))).await;
    assert_eq!(r.status, 204);
}

#[tokio::test]
async fn latency_is_added_to_every_call() {
    let (sim, c) = start(SimConfig::default()).await;
    sim.set_faults(Faults {
        latency: Duration::from_millis(300),
        ..Faults::default()
    });
    let t = Instant::now();
    c.call(Req::get(c.dcs("v2", "i", "backups"))).await;
    c.call(Req::get("/iam/v3/projects")).await;
    assert!(
        t.elapsed() >= Duration::from_millis(600),
        "{:?}",
        t.elapsed()
    );
}

#[tokio::test]
async fn every_call_is_logged_with_service_operation_and_status() {
    let (sim, c) = start(SimConfig::default()).await;
    c.call(Req::post(c.dcs("v2", "i", "backups"), json!({})))
        .await;
    c.call(Req::get(c.dcs("v1.0", "i", "backups"))).await;
    c.call(Req::get(c.v3("dds", "jobs")).query("id=x")).await;
    c.call(Req::get(c.v3("taurus", "backups")).unsigned()).await;
    let call = |m: &str, s: &'static str, o: &'static str, st: u16| SimCall {
        method: m.into(),
        service: s,
        operation: o,
        status: st,
    };
    assert_eq!(
        sim.calls(),
        vec![
            call("POST", "dcs", "create_backup", 200),
            call("GET", "dcs", "list_backups", 200),
            call("GET", "dds", "get_job", 400),
            call("GET", "taurus", "list_backups", 401),
        ]
    );
    sim.reset_calls();
    assert!(sim.calls().is_empty());
}
