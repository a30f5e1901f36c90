//! Leader election against a fake Lease API (tower-test mock): acquire, hold, step down on errors, release.
use super::*;
use std::sync::{Arc, Mutex};

use http::{Method, Request, Response, StatusCode};
use kube::client::Body;
use serde_json::{Value, json};

const NS: &str = "ops";
const LEASE: &str = "op-lease";

/// Holds one Lease in memory and answers GET/POST/PATCH the way the API server does for the fields the lease
/// manager uses. `fail_next` makes the next N requests answer 500.
#[derive(Default)]
struct FakeLeases {
    lease: Option<Value>,
    fail_next: usize,
    /// Requests are taken but never answered (an API server that hangs).
    hang: bool,
    log: Vec<(Method, String)>,
}

fn now_micro() -> String {
    jiff::Timestamp::now().to_string()
}

fn lease(spec: Value) -> Value {
    json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
           "metadata": {"name": LEASE, "namespace": NS, "resourceVersion": "1"}, "spec": spec})
}

fn held_by(holder: &str) -> Value {
    lease(
        json!({"holderIdentity": holder, "leaseDurationSeconds": LEASE_DURATION_SECS,
                 "acquireTime": now_micro(), "renewTime": now_micro()}),
    )
}

fn respond(status: StatusCode, body: &Value) -> Response<Body> {
    Response::builder()
        .status(status)
        .body(Body::from(serde_json::to_vec(body).unwrap()))
        .unwrap()
}

fn status(code: u16, reason: &str) -> Value {
    json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": reason, "reason": reason, "code": code})
}

impl FakeLeases {
    fn handle(&mut self, method: Method, path: &str, body: &[u8]) -> Response<Body> {
        self.log.push((method.clone(), path.to_owned()));
        let item = format!("/apis/coordination.k8s.io/v1/namespaces/{NS}/leases/{LEASE}");
        let collection = format!("/apis/coordination.k8s.io/v1/namespaces/{NS}/leases");
        if self.fail_next > 0 {
            self.fail_next -= 1;
            return respond(
                StatusCode::INTERNAL_SERVER_ERROR,
                &status(500, "InternalError"),
            );
        }
        match (method, path) {
            (Method::GET, p) if p == item => match &self.lease {
                Some(l) => respond(StatusCode::OK, l),
                None => respond(StatusCode::NOT_FOUND, &status(404, "NotFound")),
            },
            (Method::POST, p) if p == collection => {
                let created = lease(json!({}));
                self.lease = Some(created.clone());
                respond(StatusCode::CREATED, &created)
            }
            (Method::PATCH, p) if p == item => {
                let patch: Value = serde_json::from_slice(body).unwrap();
                let current = self.lease.get_or_insert_with(|| lease(json!({})));
                let spec = current["spec"].as_object_mut().unwrap();
                for (k, v) in patch["spec"].as_object().unwrap() {
                    if v.is_null() {
                        spec.remove(k);
                    } else {
                        spec.insert(k.clone(), v.clone());
                    }
                }
                respond(StatusCode::OK, current)
            }
            (m, p) => panic!("unexpected request {m} {p}"),
        }
    }
}

fn client(fake: Arc<Mutex<FakeLeases>>) -> Client {
    let (svc, mut handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Some((req, send)) = handle.next_request().await {
            if fake.lock().unwrap().hang {
                // Kept, not dropped: a dropped responder would fail the request at once.
                held.push(send);
                continue;
            }
            let (parts, body) = req.into_parts();
            let bytes = body.collect_bytes().await.unwrap();
            let resp = fake
                .lock()
                .unwrap()
                .handle(parts.method, parts.uri.path(), &bytes);
            send.send_response(resp);
        }
    });
    Client::new(svc, "default")
}

fn cfg(identity: &str) -> LeaderConfig {
    LeaderConfig {
        lease_name: LEASE.into(),
        lease_namespace: NS.into(),
        identity: identity.into(),
        timing: LeaseTiming::default(),
    }
}

async fn wait_for(rx: &mut watch::Receiver<bool>, want: bool) {
    tokio::time::timeout(Duration::from_secs(30), rx.wait_for(|v| *v == want))
        .await
        .unwrap()
        .unwrap();
}

fn holder(fake: &Arc<Mutex<FakeLeases>>) -> Option<String> {
    let f = fake.lock().unwrap();
    f.lease
        .as_ref()
        .and_then(|l| l["spec"]["holderIdentity"].as_str().map(str::to_owned))
}

#[test]
fn identity_prefers_pod_name() {
    assert_eq!(identity(Some("op-7d9f-abc")), "op-7d9f-abc");
    assert_eq!(identity(Some(" op-1 ")), "op-1");
}

#[test]
fn generated_identities_are_unique() {
    let a = identity(None);
    let b = identity(Some(""));
    assert!(a.starts_with("hwcloud-backup-operator-") && b.starts_with("hwcloud-backup-operator-"));
    assert_ne!(a, b);
}

#[tokio::test]
async fn creates_missing_lease_acquires_it_and_releases_on_shutdown() {
    let fake = Arc::new(Mutex::new(FakeLeases::default()));
    let leadership = start(client(fake.clone()), &cfg("op-0")).await.unwrap();
    let mut rx = leadership.receiver();
    wait_for(&mut rx, true).await;
    assert_eq!(holder(&fake).as_deref(), Some("op-0"));
    assert!(
        fake.lock()
            .unwrap()
            .log
            .iter()
            .any(|(m, _)| m == Method::POST),
        "lease was not created"
    );

    leadership.shutdown().await.unwrap();
    assert!(!*rx.borrow());
    assert_eq!(holder(&fake), None, "lease not released");
}

#[tokio::test]
async fn lease_held_by_another_replica_is_left_alone() {
    let fake = Arc::new(Mutex::new(FakeLeases {
        lease: Some(held_by("op-other")),
        ..Default::default()
    }));
    let leadership = start(client(fake.clone()), &cfg("op-0")).await.unwrap();
    let rx = leadership.receiver();
    // Let the manager read the lease and settle into waiting for its expiry.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!*rx.borrow());

    leadership.shutdown().await.unwrap();
    assert_eq!(holder(&fake).as_deref(), Some("op-other"));
    assert!(
        fake.lock()
            .unwrap()
            .log
            .iter()
            .all(|(m, _)| m == Method::GET),
        "wrote a lease it does not hold"
    );
}

#[tokio::test]
async fn start_fails_when_the_lease_api_fails() {
    let fake = Arc::new(Mutex::new(FakeLeases {
        fail_next: 1,
        ..Default::default()
    }));
    let err = start(client(fake), &cfg("op-0")).await.unwrap_err();
    assert_eq!(err.reason(), "LeaseError");
    assert!(err.to_string().contains("ops/op-lease"), "{err}");
}

#[tokio::test(start_paused = true)]
async fn steps_down_on_renewal_error_and_recovers() {
    let fake = Arc::new(Mutex::new(FakeLeases {
        lease: Some(held_by("op-0")),
        ..Default::default()
    }));
    let leadership = start(client(fake.clone()), &cfg("op-0")).await.unwrap();
    let mut rx = leadership.receiver();
    wait_for(&mut rx, true).await;

    // The next renewal (after the paused clock skips the grace sleep) fails: step down, then recover.
    fake.lock().unwrap().fail_next = 1;
    wait_for(&mut rx, false).await;
    wait_for(&mut rx, true).await;
    assert_eq!(holder(&fake).as_deref(), Some("op-0"));

    leadership.shutdown().await.unwrap();
    assert_eq!(holder(&fake), None);
}

#[tokio::test(start_paused = true)]
async fn a_renewal_that_hangs_steps_down_and_closes_the_fence() {
    let fake = Arc::new(Mutex::new(FakeLeases::default()));
    let leadership = start(client(fake.clone()), &cfg("op-0")).await.unwrap();
    let mut rx = leadership.receiver();
    wait_for(&mut rx, true).await;
    let fence = leadership.fence();
    assert_eq!(
        fence.check(),
        Ok(()),
        "the acquiring write counts as a renewal"
    );

    // The API server stops answering: the next renewal must fail within the request timeout, well
    // before the lease expires (and a standby may take it), not hang with this replica leading.
    fake.lock().unwrap().hang = true;
    let started = tokio::time::Instant::now();
    wait_for(&mut rx, false).await;
    let timing = LeaseTiming::default();
    let renew_at = Duration::from_secs(timing.duration_secs - timing.grace_secs);
    assert!(
        started.elapsed() < renew_at + timing.request_timeout() + Duration::from_secs(1),
        "stepped down only after {:?}",
        started.elapsed()
    );
    assert!(fence.check().is_err());
}

#[test]
fn the_fence_window_ends_before_the_lease_and_after_the_next_renewal() {
    // The figures the README gives.
    let default = LeaseTiming::default();
    assert_eq!(default.request_timeout(), Duration::from_secs(2));
    assert_eq!(default.fence_window(), Duration::from_secs(13));
    for timing in [
        LeaseTiming::default(),
        LeaseTiming {
            duration_secs: 4,
            grace_secs: 2,
        },
    ] {
        let lease = Duration::from_secs(timing.duration_secs);
        let renew_every = Duration::from_secs(timing.duration_secs - timing.grace_secs);
        let window = timing.fence_window();
        assert!(window < lease, "{timing:?}");
        assert!(
            renew_every + timing.request_timeout() <= window,
            "{timing:?}"
        );
        assert!(timing.request_timeout() < Duration::from_secs(timing.grace_secs));
    }
}
