//! Tests of the IAM token cache: reuse, refresh before expiry, and failures.

use super::*;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, StatusCode};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

fn now() -> Timestamp {
    "2026-01-01T00:00:00Z".parse().unwrap()
}

fn reply(token: Option<&str>, body: &str) -> Reply {
    let mut headers = HeaderMap::new();
    if let Some(t) = token {
        headers.insert("x-subject-token", HeaderValue::from_str(t).unwrap());
    }
    Reply {
        status: StatusCode::CREATED,
        headers,
        body: Bytes::from(body.to_string()),
    }
}

#[test]
fn parses_token_header_expiry_and_project() {
    let big = "t".repeat(100_000);
    let r = reply(
        Some(&big),
        r#"{"token":{"expires_at":"2026-01-02T00:00:00.000000Z","methods":["password"],
            "project":{"id":"pid-1","name":"eu-de"},"user":{"name":"u"}}}"#,
    );
    let t = parse_token(&r, now()).unwrap();
    assert_eq!(t.value().len(), 100_000);
    assert_eq!(t.project_id.as_deref(), Some("pid-1"));
    assert_eq!(
        t.expires_at.duration_since(now()),
        SignedDuration::from_hours(24)
    );
    // 24 h token: refreshed when 40 minutes remain.
    assert!(t.fresh("2026-01-01T23:19:00Z".parse().unwrap()));
    assert!(!t.fresh("2026-01-01T23:21:00Z".parse().unwrap()));
    assert!(!format!("{t:?}").contains("ttt"));
}

#[test]
fn short_tokens_refresh_halfway() {
    let t = IamToken::new(
        "x".into(),
        "2026-01-01T00:10:00Z".parse().unwrap(),
        None,
        now(),
    );
    assert!(t.fresh("2026-01-01T00:04:59Z".parse().unwrap()));
    assert!(!t.fresh("2026-01-01T00:05:01Z".parse().unwrap()));
}

#[test]
fn malformed_token_replies_are_decode_errors() {
    let body = r#"{"token":{"expires_at":"2026-01-02T00:00:00Z"}}"#;
    for r in [
        reply(None, body),
        reply(Some("tok"), r#"{"token":{}}"#),
        reply(Some("tok"), r#"{"token":{"expires_at":"tomorrow"}}"#),
        reply(
            Some("tok"),
            r#"{"token":{"expires_at":"2025-01-01T00:00:00Z"}}"#,
        ),
        reply(Some("tok"), "not json"),
    ] {
        assert!(matches!(parse_token(&r, now()), Err(Error::Decode { .. })));
    }
    let ok = parse_token(&reply(Some("tok"), body), now()).unwrap();
    assert_eq!(ok.project_id, None);
}

fn token(v: &str, secs: i64) -> IamToken {
    let n = Timestamp::now();
    IamToken::new(
        v.into(),
        n + SignedDuration::from_secs(secs),
        Some("p".into()),
        n,
    )
}

#[tokio::test]
async fn concurrent_callers_share_one_fetch() {
    let cache = Arc::new(TokenCache::default());
    let fetches = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (cache, fetches) = (cache.clone(), fetches.clone());
        tasks.push(tokio::spawn(async move {
            cache
                .get(|| async {
                    fetches.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    Ok(token("A", 86_400))
                })
                .await
                .unwrap()
                .value()
                .to_string()
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), "A");
    }
    assert_eq!(fetches.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn invalidated_tokens_are_fetched_again() {
    let cache = TokenCache::default();
    let a = cache
        .get(|| async { Ok(token("A", 86_400)) })
        .await
        .unwrap();
    let again = cache
        .get(|| async { Ok(token("B", 86_400)) })
        .await
        .unwrap();
    assert_eq!(again.value(), "A", "fresh token reused");
    cache.invalidate(&a).await;
    let b = cache
        .get(|| async { Ok(token("B", 86_400)) })
        .await
        .unwrap();
    assert_eq!(b.value(), "B");
    // Invalidating the stale "A" again must not drop the newer "B".
    cache.invalidate(&a).await;
    let still = cache
        .get(|| async { Ok(token("C", 86_400)) })
        .await
        .unwrap();
    assert_eq!(still.value(), "B");
}

#[tokio::test]
async fn failed_refresh_keeps_a_usable_token_unless_credentials_were_refused() {
    let cache = TokenCache::default();
    // A 24 h token issued 23.5 h ago: due for refresh, still valid for 30 minutes.
    let n = Timestamp::now();
    let old = IamToken::new(
        "old".into(),
        n + SignedDuration::from_mins(30),
        None,
        n - SignedDuration::from_mins(23 * 60 + 30),
    );
    cache.get(|| async { Ok(old) }).await.unwrap();
    let net = || async {
        Err(Error::Network {
            service: "iam",
            operation: OP,
            message: "down".into(),
        })
    };
    assert_eq!(cache.get(net).await.unwrap().value(), "old");
    let refused = || async { Err(Error::Auth("wrong password".into())) };
    assert!(matches!(cache.get(refused).await, Err(Error::Auth(_))));
    assert!(cache.get(net).await.is_err(), "refused token was dropped");
}
