//! Which failures are retried, how, and what each attempt reports.

use std::time::{Duration, Instant};

use hwcloud_backup_operator::cloud::error::{Error, ErrorClass};
use hwcloud_backup_operator::cloud::transport::TransportConfig;

use crate::mock::*;

#[tokio::test]
async fn transient_errors_are_retried_and_every_attempt_is_signed_and_observed() {
    let (base, seen) = serve(|n, _| match n {
        0 => r(
            500,
            r#"{"error_code":"DCS.5078","error_msg":"query failed"}"#,
        ),
        1 => r(
            429,
            r#"{"error_code":"APIGW.0308","error_msg":"throttled"}"#,
        ),
        _ => r(200, ONE_BACKUP),
    })
    .await;
    let (clients, calls) = clients(cfg());
    let client = clients.client(&aksk(&base, Some("p1")));
    let records = client.dcs().list_backups("inst-1").await.unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].size_bytes, Some(10));
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 3);
    for s in seen.iter() {
        assert_eq!(s.path, "/dcs/v2/p1/instances/inst-1/backups");
        assert_eq!(s.query.as_deref(), Some("offset=0&limit=1000"));
        assert_eq!(s.header("x-project-id"), Some("p1"));
        assert!(s.signed_with(SK), "attempt is signed");
        assert!(!s.signed_with("other"));
    }
    assert_eq!(calls.outcomes(), ["Retryable", "Throttled", "ok"]);
    assert!(
        calls
            .0
            .lock()
            .unwrap()
            .iter()
            .all(|c| c.0 == "dcs" && c.1 == "list_backups")
    );
}

#[tokio::test]
async fn retries_honour_retry_after_and_are_signed_afresh() {
    let (base, seen) = serve(|n, _| match n {
        0 => r(503, "").header("retry-after", "1"),
        _ => r(200, ONE_BACKUP),
    })
    .await;
    let (clients, _) = clients(cfg());
    let client = clients.client(&aksk(&base, Some("p1")));
    let started = Instant::now();
    client.dcs().list_backups("i").await.unwrap();
    assert!(started.elapsed() >= Duration::from_secs(1));
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2);
    assert_ne!(seen[0].header("x-sdk-date"), seen[1].header("x-sdk-date"));
    assert_ne!(
        seen[0].header("authorization"),
        seen[1].header("authorization")
    );
    assert!(seen[1].signed_with(SK));
}

#[tokio::test]
async fn auth_busy_not_found_and_terminal_errors_are_not_retried() {
    let cases: &[(u16, &str, ErrorClass)] = &[
        (
            401,
            r#"{"error_code":"APIGW.0301","error_msg":"Incorrect IAM authentication information"}"#,
            ErrorClass::Auth,
        ),
        (
            400,
            r#"{"error_code":"DCS.4096","error_msg":"backing up"}"#,
            ErrorClass::Busy,
        ),
        (
            404,
            r#"{"error_code":"DCS.3022","error_msg":"no instance"}"#,
            ErrorClass::NotFound,
        ),
        (
            400,
            r#"{"error":{"code":"111400086","message":"only master standby instance is support this action"}}"#,
            ErrorClass::Terminal,
        ),
        (302, "", ErrorClass::Terminal),
    ];
    for (status, body, class) in cases {
        let (status, body) = (*status, body.to_string());
        let (base, seen) = serve(move |_, _| {
            r(status, &body)
                .header("x-request-id", "req-42")
                .header("location", "http://127.0.0.1:1/elsewhere")
        })
        .await;
        let (clients, calls) = clients(cfg());
        let client = clients.client(&aksk(&base, Some("p1")));
        let e = client.dcs().delete_backup("i", "b").await.unwrap_err();
        assert_eq!(e.class(), *class, "{status}: {e}");
        assert_eq!(
            seen.lock().unwrap().len(),
            1,
            "{status}: exactly one attempt"
        );
        assert_eq!(calls.outcomes().len(), 1);
        assert_eq!(e.request_id(), Some("req-42"));
        let text = format!("{e} {e:?}");
        for secret in [SK, "SDK-HMAC-SHA256", "Signature="] {
            assert!(!text.contains(secret), "{text}");
        }
    }
}

#[tokio::test]
async fn creates_are_repeated_only_when_the_gateway_refused_them() {
    let (base, seen) =
        serve(|_, _| r(500, r#"{"error_code":"DCS.5000","error_msg":"internal"}"#)).await;
    let (clients, _) = clients(cfg());
    let client = clients.client(&aksk(&base, Some("p1")));
    let e = client
        .dcs()
        .create_backup("i", "marker", None)
        .await
        .unwrap_err();
    assert_eq!(e.class(), ErrorClass::Retryable);
    assert_eq!(seen.lock().unwrap().len(), 1, "a 500 may have created it");

    let (base, seen) = serve(|n, _| match n {
        0 => r(429, r#"{"error_code":"APIGW.0308"}"#),
        _ => r(200, r#"{"backup_id":"b-new"}"#),
    })
    .await;
    let client = clients.client(&aksk(&base, Some("p1")));
    let id = client
        .dcs()
        .create_backup("i", "marker", None)
        .await
        .unwrap();
    assert_eq!(id, "b-new");
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[1].body, br#"{"remark":"marker"}"#);
    assert_eq!(
        seen[1].header("content-type"),
        Some("application/json;charset=utf8")
    );
}

#[tokio::test]
async fn timeouts_are_retried_then_reported() {
    let (base, seen) = serve(|_, _| r(200, ONE_BACKUP).delay(Duration::from_millis(400))).await;
    let (clients, calls) = clients(TransportConfig {
        request_timeout: Duration::from_millis(100),
        max_attempts: 2,
        ..cfg()
    });
    let client = clients.client(&aksk(&base, Some("p1")));
    let e = client.dcs().list_backups("i").await.unwrap_err();
    assert!(matches!(e, Error::Timeout { .. }), "{e}");
    assert_eq!(seen.lock().unwrap().len(), 2);
    assert_eq!(calls.outcomes(), ["Timeout", "Timeout"]);
}

#[tokio::test]
async fn long_retry_after_ends_the_call_and_bad_bodies_are_not_retried() {
    let (base, seen) = serve(|_, _| r(429, "").header("retry-after", "3600")).await;
    let (clients, calls) = clients(cfg());
    let client = clients.client(&aksk(&base, Some("p1")));
    let e = client.dds().get_job("j").await.unwrap_err();
    assert_eq!(e.class(), ErrorClass::Throttled);
    assert_eq!(seen.lock().unwrap().len(), 1);

    let (base, seen) = serve(|_, _| r(200, "<html>oops</html>")).await;
    let client = clients.client(&aksk(&base, Some("p1")));
    let e = client.dds().get_job("j").await.unwrap_err();
    assert!(matches!(e, Error::Decode { .. }), "{e}");
    assert_eq!(seen.lock().unwrap().len(), 1);
    assert_eq!(calls.outcomes(), ["Throttled", "BadResponse"]);
}

#[tokio::test]
async fn the_rate_limiter_spaces_calls_of_one_account() {
    let (base, _) = serve(|_, _| r(204, "")).await;
    let (clients, _) = clients(TransportConfig {
        rate_per_second: 5,
        burst: 1,
        ..cfg()
    });
    let client = clients.client(&aksk(&base, Some("p1")));
    let started = Instant::now();
    for _ in 0..6 {
        assert!(client.dcs().list_backups("i").await.unwrap().is_empty());
    }
    // One immediately, then one per 200 ms.
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_rate_limited_call_fails_at_once_and_a_retry_never_waits_for_the_limiter() {
    let (base, seen) =
        serve(|_, _| r(500, r#"{"error_code":"DCS.5000","error_msg":"boom"}"#)).await;
    let (clients, calls) = clients(TransportConfig {
        rate_per_second: 1,
        burst: 1,
        max_rate_wait: Duration::from_millis(100),
        ..cfg()
    });
    let client = clients.client(&aksk(&base, Some("p1")));
    // The first attempt takes the only slot; its retry would wait ~1 s, so it is not made and
    // the call ends with the cloud's answer.
    let started = Instant::now();
    let e = client.dcs().list_backups("i").await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "{:?}",
        started.elapsed()
    );
    assert!(e.to_string().contains("DCS.5000"), "{e}");
    assert_eq!(seen.lock().unwrap().len(), 1);
    // The next call gets no slot either: not sent, Throttled, with the limiter's wait.
    let started = Instant::now();
    let e = client.dcs().list_backups("i").await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_millis(200),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(e.class(), ErrorClass::Throttled);
    assert_eq!(e.reason(), "RateLimited");
    let wait = e.retry_in().expect("suggests a wait");
    assert!(
        wait > Duration::from_millis(500) && wait <= Duration::from_secs(1),
        "{wait:?}"
    );
    assert!(e.to_string().contains("--cloud-rate-per-second"), "{e}");
    assert_eq!(seen.lock().unwrap().len(), 1, "nothing sent");
    assert_eq!(
        calls.outcomes(),
        ["Retryable"],
        "only sent requests are counted"
    );
}
