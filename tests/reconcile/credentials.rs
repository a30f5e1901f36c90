//! Credentials: a missing Secret waits without touching the cloud, a wrong key is tried once and
//! then backed off (the cloud locks keys after repeated bad signatures), and a Secret is only ever
//! read from the resource's own namespace.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use hwcloud_backup_operator::crd::Phase;
use serde_json::json;

use crate::common::{assert_state, events_for};
use crate::harness::{Harness, NS};
use crate::kinds::Kind;

/// At least the auth backoff of the test settings (300 ms) minus the 10% jitter.
const BACKED_OFF: Duration = Duration::from_millis(270);

fn with_secret(mut spec: serde_json::Value, name: &str) -> serde_json::Value {
    spec["credentialsSecretRef"] = json!({ "name": name });
    spec
}

each_kind!(missing_secret_waits_until_it_appears);
async fn missing_secret_waits_until_it_appears<K: Kind>() {
    let h = Harness::new().await;
    let spec = with_secret(K::spec(&h, K::INSTANCE).await, "late-secret");
    let path = h.create(K::KIND, K::PLURAL, "early", spec);
    for _ in 0..2 {
        let next = h.step::<K>(&path).await;
        assert!(next.is_some_and(|n| n >= BACKED_OFF), "{next:?}");
        let st = h.status(&path);
        assert_state(&st, Phase::Pending, "CredentialsError");
        let message = st.message.clone().unwrap_or_default();
        assert!(message.contains("late-secret"), "{message}");
    }
    assert_eq!(h.sim.calls(), vec![], "no cloud call without credentials");
    assert_eq!(events_for(&h, "early"), vec!["CredentialsError"]);

    h.put_secret("late-secret", h.secret_data());
    h.drive::<K>(&path, 50).await;
    assert_eq!(h.status(&path).phase, Some(Phase::Succeeded));
    assert_eq!(K::made(&h, K::INSTANCE).len(), 1);
}

each_kind!(wrong_secret_key_is_tried_once_then_backed_off);
/// With the project id given, the first signed call is the create itself (a restore of a backup
/// first looks the backup up in a list): exactly one call, refused, and the next try waits for the
/// auth backoff.
async fn wrong_secret_key_is_tried_once_then_backed_off<K: Kind>() {
    let h = Harness::new().await;
    let spec = with_secret(K::spec(&h, K::INSTANCE).await, "wrong-key");
    let mut data = h.secret_data();
    data["secretKey"] = json!("not-the-secret-key");
    data["projectId"] = json!(h.sim.config().project_id);
    h.put_secret("wrong-key", data);
    let path = h.create(K::KIND, K::PLURAL, "locked-out", spec);

    let next = h.step::<K>(&path).await;
    assert!(
        next.is_some_and(|n| n >= BACKED_OFF),
        "no tight retry: {next:?}"
    );
    let st = h.status(&path);
    assert_state(&st, Phase::Pending, "CredentialsError");
    assert_eq!(st.create_requested_at, None, "refused: nothing to adopt");
    assert_eq!(K::op_id(&st), None);
    let calls = h.sim.calls();
    assert_eq!(calls.len(), 1, "one signed call, no retries: {calls:?}");
    assert_eq!(calls[0].status, 401, "{calls:?}");
    let first = if K::NOUN == "Restore" {
        "list_backups"
    } else {
        K::CREATE
    };
    assert_eq!(calls[0].operation, first, "{calls:?}");
    assert_eq!(events_for(&h, "locked-out"), vec!["CredentialsError"]);
    let message = st.message.clone().unwrap_or_default();
    assert!(!message.contains("not-the-secret-key"), "{message}");
}

each_kind!(secret_of_another_namespace_is_never_used);
async fn secret_of_another_namespace_is_never_used<K: Kind>() {
    let h = Harness::new().await;
    h.put_secret_in("team-b", "elsewhere", h.secret_data());
    let spec = with_secret(K::spec(&h, K::INSTANCE).await, "elsewhere");
    let path = h.create(K::KIND, K::PLURAL, "nosy", spec);
    for _ in 0..2 {
        h.step::<K>(&path).await;
        assert_state(&h.status(&path), Phase::Pending, "CredentialsError");
    }
    assert_eq!(h.sim.calls(), vec![]);
    let reads: Vec<String> = h
        .api
        .calls()
        .into_iter()
        .filter(|c| c.path.contains("/secrets/"))
        .map(|c| c.path)
        .collect();
    assert!(!reads.is_empty());
    assert!(
        reads
            .iter()
            .all(|p| p == &format!("/api/v1/namespaces/{NS}/secrets/elsewhere")),
        "{reads:?}"
    );
}

each_backup_kind!(a_region_without_a_project_waits_for_a_fixed_secret);
/// A Secret whose region has no project in IAM is a configuration mistake the user fixes in the
/// Secret: the resource waits as CredentialsError instead of failing, then proceeds.
async fn a_region_without_a_project_waits_for_a_fixed_secret<K: Kind>() {
    let h = Harness::new().await;
    let spec = with_secret(K::spec(&h, K::INSTANCE).await, "bad-region");
    let mut data = h.secret_data();
    data["region"] = json!("xx-nowhere-1");
    h.put_secret("bad-region", data);
    let path = h.create(K::KIND, K::PLURAL, "lost", spec);
    let next = h.step::<K>(&path).await;
    assert!(next.is_some_and(|n| n >= BACKED_OFF), "{next:?}");
    let st = h.status(&path);
    assert_state(&st, Phase::Pending, "CredentialsError");
    assert!(
        st.message
            .clone()
            .unwrap_or_default()
            .contains("xx-nowhere-1"),
        "{st:?}"
    );
    assert_eq!(K::made(&h, K::INSTANCE).len(), 0);

    h.put_secret("bad-region", h.secret_data());
    h.drive::<K>(&path, 50).await;
    assert_eq!(h.status(&path).phase, Some(Phase::Succeeded));
}

/// An internal HTTP service that answers every request with an HTML page, counting connections.
async fn internal_service() -> (u16, Arc<AtomicUsize>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            seen.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buf = [0u8; 8192];
                let _ = socket.read(&mut buf).await;
                let page = "<html><body>internal admin console: db-password=hunter2</body></html>";
                let reply = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{page}",
                    page.len()
                );
                let _ = socket.write_all(reply.as_bytes()).await;
            });
        }
    });
    (port, count)
}

each_kind!(a_secret_pointing_at_an_internal_service_waits_and_sends_nothing);
/// The reported SSRF: a Secret's endpoints name an internal HTTP service. The resource waits as
/// CredentialsError with a message naming the host and the flag, no connection is ever made, and
/// nothing of the service's answer reaches status or events.
async fn a_secret_pointing_at_an_internal_service_waits_and_sends_nothing<K: Kind>() {
    let h = Harness::new().await;
    let (port, connections) = internal_service().await;
    let internal = format!("http://localhost:{port}");
    let spec = with_secret(K::spec(&h, K::INSTANCE).await, "ssrf");
    let mut data = h.secret_data();
    for key in [
        "iamEndpoint",
        "dcsEndpoint",
        "ddsEndpoint",
        "taurusEndpoint",
    ] {
        data[key] = json!(internal);
    }
    h.put_secret("ssrf", data);
    let path = h.create(K::KIND, K::PLURAL, "ssrf", spec);
    for _ in 0..2 {
        let next = h.step::<K>(&path).await;
        assert!(next.is_some_and(|n| n >= BACKED_OFF), "{next:?}");
        let st = h.status(&path);
        assert_state(&st, Phase::Pending, "CredentialsError");
        let message = st.message.clone().unwrap_or_default();
        assert!(
            message.contains("localhost") && message.contains("--allowed-endpoint-hosts"),
            "{message}"
        );
    }
    assert_eq!(connections.load(Ordering::SeqCst), 0, "no request sent");
    for text in h.api.calls().iter().map(|c| c.body.to_string()) {
        assert!(
            !text.contains("admin console") && !text.contains("<html"),
            "{text}"
        );
    }
    assert_eq!(events_for(&h, "ssrf"), vec!["CredentialsError"]);
}
