//! Transport behaviour (retries, signing, tokens, paging) against a scripted HTTP server on 127.0.0.1.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::response::Response;
use hwcloud_backup_operator::cloud::account::{
    Account, CloudKind, Credentials, DcsApiVersion, EndpointOverrides,
};
use hwcloud_backup_operator::cloud::client::CloudClients;
use hwcloud_backup_operator::cloud::error::{Error, ErrorClass};
use hwcloud_backup_operator::cloud::signer::{
    SigningInput, parse_authorization, payload_hash, verify,
};
use hwcloud_backup_operator::cloud::transport::{CallObserver, TransportConfig};

const SK: &str = "SK-SECRET-VALUE";
const PASSWORD: &str = "hunter2-password";

#[derive(Clone, Debug)]
struct Seen {
    method: String,
    path: String,
    query: Option<String>,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// What the API gateway does: rebuild the canonical request and check the signature.
    fn signed_with(&self, sk: &str) -> bool {
        let Some(parsed) = self.header("authorization").and_then(parse_authorization) else {
            return false;
        };
        let hash = payload_hash(&self.body);
        let input = SigningInput {
            method: &self.method,
            path: &self.path,
            query: self.query.as_deref(),
            headers: &self.headers,
            signed_headers: &parsed.signed_headers,
            payload_hash: &hash,
        };
        verify(sk, &input, &parsed.signature)
    }
}

/// One scripted answer.
struct R {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: String,
    delay: Duration,
}

fn r(status: u16, body: &str) -> R {
    R {
        status,
        headers: Vec::new(),
        body: body.to_string(),
        delay: Duration::ZERO,
    }
}

impl R {
    fn header(mut self, k: &'static str, v: &str) -> Self {
        self.headers.push((k, v.to_string()));
        self
    }
    fn delay(mut self, d: Duration) -> Self {
        self.delay = d;
        self
    }
}

type Script = dyn Fn(usize, &Seen) -> R + Send + Sync;

#[derive(Clone)]
struct Mock {
    seen: Arc<Mutex<Vec<Seen>>>,
    script: Arc<Script>,
}

async fn handle(State(m): State<Mock>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body = to_bytes(body, usize::MAX).await.unwrap().to_vec();
    let seen = Seen {
        method: parts.method.to_string(),
        path: parts.uri.path().to_string(),
        query: parts.uri.query().map(str::to_string),
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
            .collect(),
        body,
    };
    let n = {
        let mut all = m.seen.lock().unwrap();
        all.push(seen.clone());
        all.len() - 1
    };
    let answer = (m.script)(n, &seen);
    tokio::time::sleep(answer.delay).await;
    let mut resp = Response::builder().status(answer.status);
    for (k, v) in answer.headers {
        resp = resp.header(k, v);
    }
    resp.body(Body::from(answer.body)).unwrap()
}

/// Starts a server answering with `script(call_index, request)`; returns its base URL.
async fn serve(
    script: impl Fn(usize, &Seen) -> R + Send + Sync + 'static,
) -> (String, Arc<Mutex<Vec<Seen>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mock = Mock {
        seen: seen.clone(),
        script: Arc::new(script),
    };
    let app = axum::Router::new().fallback(handle).with_state(mock);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), seen)
}

fn endpoints(base: &str) -> EndpointOverrides {
    EndpointOverrides {
        iam: Some(format!("{base}/iam")),
        dcs: Some(format!("{base}/dcs/")),
        dds: Some(format!("{base}/dds")),
        taurus: Some(format!("{base}/taurus")),
    }
}

fn aksk(base: &str, project_id: Option<&str>) -> Account {
    Account {
        credentials: Credentials::AkSk {
            access_key: "AK-TEST".into(),
            secret_key: SK.into(),
            security_token: None,
        },
        region: "eu-de".into(),
        project_id: project_id.map(str::to_string),
        cloud: CloudKind::Otc,
        endpoints: endpoints(base),
        dcs_api_version: DcsApiVersion::V2,
    }
}

fn password(base: &str) -> Account {
    Account {
        credentials: Credentials::Password {
            username: "user".into(),
            password: PASSWORD.into(),
            domain_name: "dom".into(),
        },
        ..aksk(base, None)
    }
}

fn cfg() -> TransportConfig {
    TransportConfig {
        request_timeout: Duration::from_secs(5),
        max_attempts: 4,
        base_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_secs(2),
        rate_per_second: 1000,
        burst: 1000,
    }
}

#[derive(Default)]
struct Calls(Mutex<Vec<(String, String, String)>>);

impl CallObserver for Calls {
    fn observe(
        &self,
        service: &'static str,
        operation: &'static str,
        outcome: &'static str,
        _: Duration,
    ) {
        self.0
            .lock()
            .unwrap()
            .push((service.into(), operation.into(), outcome.into()));
    }
}

impl Calls {
    fn outcomes(&self) -> Vec<String> {
        self.0.lock().unwrap().iter().map(|c| c.2.clone()).collect()
    }
}

fn clients(cfg: TransportConfig) -> (CloudClients, Arc<Calls>) {
    let calls = Arc::new(Calls::default());
    (CloudClients::new(cfg, Some(calls.clone())), calls)
}

const ONE_BACKUP: &str =
    r#"{"total_num":1,"backup_record_response":[{"backup_id":"b1","status":"succeed","size":10}]}"#;

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

fn page(query: &str, total: usize, key: &str, v1: bool) -> R {
    let q: BTreeMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let limit: usize = q["limit"].parse().unwrap();
    let first = if v1 {
        q["start"].parse::<usize>().unwrap() - 1
    } else {
        q["offset"].parse().unwrap()
    };
    let entries: Vec<String> = (first..total.min(first + limit))
        .map(|i| format!(r#"{{"{key}":"id-{i}","status":"succeed","progress":"100.00"}}"#))
        .collect();
    let list = if key == "backup_id" {
        "backup_record_response"
    } else {
        "restore_record_response"
    };
    r(
        200,
        &format!(
            r#"{{"total_num":{total},"{list}":[{}]}}"#,
            entries.join(",")
        ),
    )
}

#[tokio::test]
async fn dcs_lists_page_through_everything_in_both_api_versions() {
    let (base, seen) = serve(|_, s| {
        let v1 = s.path.starts_with("/dcs/v1.0/");
        let key = if s.path.ends_with("/backups") {
            "backup_id"
        } else {
            "restore_id"
        };
        page(s.query.as_deref().unwrap(), 2500, key, v1)
    })
    .await;
    let (clients, _) = clients(cfg());
    let v2 = clients.client(&aksk(&base, Some("p1")));
    let backups = v2.dcs().list_backups("i").await.unwrap();
    assert_eq!(backups.len(), 2500);
    assert_eq!(backups[2499].backup_id, "id-2499");
    let v1 = clients.client(&Account {
        dcs_api_version: DcsApiVersion::V1,
        ..aksk(&base, Some("p1"))
    });
    let restores = v1.dcs().list_restores("i").await.unwrap();
    assert_eq!(restores.len(), 2500);
    let queries: Vec<String> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|s| format!("{} {}", s.path, s.query.clone().unwrap()))
        .collect();
    assert_eq!(
        queries,
        [
            "/dcs/v2/p1/instances/i/backups offset=0&limit=1000",
            "/dcs/v2/p1/instances/i/backups offset=1000&limit=1000",
            "/dcs/v2/p1/instances/i/backups offset=2000&limit=1000",
            "/dcs/v1.0/p1/instances/i/restores start=1&limit=1000",
            "/dcs/v1.0/p1/instances/i/restores start=1001&limit=1000",
            "/dcs/v1.0/p1/instances/i/restores start=2001&limit=1000",
        ]
    );
}

const TOKEN_BODY: &str = r#"{"token":{"expires_at":"2099-01-01T00:00:00.000000Z","methods":["password"],
    "project":{"id":"p-from-token","name":"eu-de"},"user":{"name":"user"}}}"#;

#[tokio::test]
async fn password_tokens_are_fetched_once_shared_and_dropped_on_401() {
    let big = "T".repeat(100_000);
    let token = big.clone();
    let rejections = Arc::new(Mutex::new(1));
    let rej = rejections.clone();
    let (base, seen) = serve(move |_, s| {
        if s.path == "/iam/v3/auth/tokens" {
            return r(201, TOKEN_BODY).header("x-subject-token", &token);
        }
        if s.header("x-auth-token") != Some(token.as_str()) {
            return r(
                401,
                r#"{"error_code":"APIGW.0301","error_msg":"bad token"}"#,
            );
        }
        if s.path.ends_with("/jobs") && std::mem::take(&mut *rej.lock().unwrap()) == 1 {
            return r(
                401,
                r#"{"error_code":"APIGW.0301","error_msg":"token expired"}"#,
            );
        }
        r(
            200,
            r#"{"job":{"id":"j","status":"Running","progress":"9%"}}"#,
        )
    })
    .await;
    let (clients, calls) = clients(cfg());
    let client = clients.client(&password(&base));
    let burst: Vec<_> = (0..20)
        .map(|_| {
            let c = client.clone();
            tokio::spawn(async move { c.dds().get_backup("b").await })
        })
        .collect();
    for t in burst {
        // The list answer is the job body here; only authentication matters.
        t.await.unwrap().unwrap();
    }
    let token_calls = |seen: &Arc<Mutex<Vec<Seen>>>| {
        seen.lock()
            .unwrap()
            .iter()
            .filter(|s| s.path == "/iam/v3/auth/tokens")
            .count()
    };
    assert_eq!(token_calls(&seen), 1, "one login for a concurrent burst");
    {
        let seen = seen.lock().unwrap();
        let login = &seen[0];
        assert_eq!(login.query.as_deref(), Some("nocatalog=true"));
        let body: serde_json::Value = serde_json::from_slice(&login.body).unwrap();
        assert_eq!(body["auth"]["scope"]["project"]["name"], "eu-de");
        assert_eq!(
            body["auth"]["identity"]["password"]["user"]["domain"]["name"],
            "dom"
        );
        assert!(
            seen[1..]
                .iter()
                .all(|s| s.path == "/dds/v3/p-from-token/backups")
        );
    }
    assert_eq!(client.project_id().await.unwrap(), "p-from-token");

    // The service rejects the token once: that call fails with Auth, the next logs in again.
    let e = client.dds().get_job("j").await.unwrap_err();
    assert_eq!(e.class(), ErrorClass::Auth);
    assert_eq!(token_calls(&seen), 1);
    let job = client.dds().get_job("j").await.unwrap();
    assert_eq!(job.progress, Some(9.0));
    assert_eq!(token_calls(&seen), 2);
    assert!(
        calls
            .0
            .lock()
            .unwrap()
            .iter()
            .any(|c| c.0 == "iam" && c.1 == "create_token")
    );
}

#[tokio::test]
async fn a_wrong_password_is_an_auth_error_after_one_login_attempt() {
    let (base, seen) = serve(|_, _| {
        r(401, r#"{"error":{"code":401,"message":"The username or password is wrong.","title":"Unauthorized"}}"#)
    })
    .await;
    let (clients, _) = clients(cfg());
    let client = clients.client(&password(&base));
    let e = client.taurus().get_job("j").await.unwrap_err();
    assert!(matches!(e, Error::Auth(_)), "{e}");
    assert!(e.to_string().contains("username or password is wrong"));
    assert!(!format!("{e} {e:?}").contains(PASSWORD));
    assert_eq!(seen.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn project_id_is_looked_up_once_by_region_with_a_signed_request() {
    let (base, seen) = serve(|_, s| {
        if s.path == "/iam/v3/projects" {
            r(
                200,
                r#"{"projects":[{"id":"p-eu-de","name":"eu-de"},{"id":"x","name":"eu-de_sub"}]}"#,
            )
        } else {
            r(
                201,
                r#"{"backup":{"id":"tb","status":"BUILDING"},"job_id":"tj"}"#,
            )
        }
    })
    .await;
    let (clients, _) = clients(cfg());
    let client = clients.client(&aksk(&base, None));
    for _ in 0..2 {
        let created = client
            .taurus()
            .create_backup("i", "name-1", "desc")
            .await
            .unwrap();
        assert_eq!(
            (created.backup_id.as_str(), created.job_id.as_str()),
            ("tb", "tj")
        );
    }
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 3, "one lookup, two creates");
    assert_eq!(seen[0].query.as_deref(), Some("name=eu-de"));
    assert_eq!(seen[0].header("x-project-id"), None);
    assert!(seen[0].signed_with(SK));
    assert_eq!(seen[1].path, "/taurus/v3/p-eu-de/backups/create");
    assert_eq!(seen[1].header("x-project-id"), Some("p-eu-de"));
    assert!(seen[1].signed_with(SK));

    let (base, _) = serve(|_, _| r(200, r#"{"projects":[]}"#)).await;
    let e = clients
        .client(&aksk(&base, None))
        .project_id()
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::Config(m) if m.contains("no project named \"eu-de\"")),
        "{e}"
    );
}

#[tokio::test]
async fn one_client_per_account() {
    let (clients, _) = clients(cfg());
    let a = clients.client(&aksk("http://127.0.0.1:1", Some("p")));
    let b = clients.client(&aksk("http://127.0.0.1:1", Some("p")));
    let c = clients.client(&aksk("http://127.0.0.1:1", Some("q")));
    assert!(Arc::ptr_eq(&a, &b));
    assert!(!Arc::ptr_eq(&a, &c));
    assert!(!format!("{a:?}").contains(SK));
}
