//! A scripted HTTP server that records every request, and client fixtures.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::response::Response;
use hwcloud_backup_operator::cloud::account::{
    Account, CloudKind, Credentials, DcsApiVersion, EndpointOverrides,
};
use hwcloud_backup_operator::cloud::allow::AllowedHosts;
use hwcloud_backup_operator::cloud::client::CloudClients;
use hwcloud_backup_operator::cloud::signer::{
    SigningInput, parse_authorization, payload_hash, verify,
};
use hwcloud_backup_operator::cloud::transport::{CallObserver, TransportConfig};

pub const SK: &str = "SK-SECRET-VALUE";
pub const PASSWORD: &str = "hunter2-password";

#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// What the API gateway does: rebuild the canonical request and check the signature.
    pub fn signed_with(&self, sk: &str) -> bool {
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
pub struct R {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
    pub delay: Duration,
}

pub fn r(status: u16, body: &str) -> R {
    R {
        status,
        headers: Vec::new(),
        body: body.to_string(),
        delay: Duration::ZERO,
    }
}

impl R {
    pub fn header(mut self, k: &'static str, v: &str) -> Self {
        self.headers.push((k, v.to_string()));
        self
    }
    pub fn delay(mut self, d: Duration) -> Self {
        self.delay = d;
        self
    }
}

pub type Script = dyn Fn(usize, &Seen) -> R + Send + Sync;

#[derive(Clone)]
pub struct Mock {
    pub seen: Arc<Mutex<Vec<Seen>>>,
    pub script: Arc<Script>,
}

pub async fn handle(State(m): State<Mock>, req: Request) -> Response {
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
pub async fn serve(
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

pub fn endpoints(base: &str) -> EndpointOverrides {
    EndpointOverrides {
        iam: Some(format!("{base}/iam")),
        dcs: Some(format!("{base}/dcs/")),
        dds: Some(format!("{base}/dds")),
        taurus: Some(format!("{base}/taurus")),
    }
}

pub fn aksk(base: &str, project_id: Option<&str>) -> Account {
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

pub fn password(base: &str) -> Account {
    Account {
        credentials: Credentials::Password {
            username: "user".into(),
            password: PASSWORD.into(),
            domain_name: "dom".into(),
        },
        ..aksk(base, None)
    }
}

pub fn cfg() -> TransportConfig {
    TransportConfig {
        request_timeout: Duration::from_secs(5),
        max_attempts: 4,
        base_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_secs(2),
        rate_per_second: 1000,
        burst: 1000,
        max_rate_wait: Duration::from_millis(200),
        allowed_hosts: AllowedHosts::new(vec!["127.0.0.1".parse().unwrap()]),
    }
}

#[derive(Default)]
pub struct Calls(pub Mutex<Vec<(String, String, String)>>);

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
    pub fn outcomes(&self) -> Vec<String> {
        self.0.lock().unwrap().iter().map(|c| c.2.clone()).collect()
    }
}

pub fn clients(cfg: TransportConfig) -> (CloudClients, Arc<Calls>) {
    let calls = Arc::new(Calls::default());
    (CloudClients::new(cfg, Some(calls.clone())), calls)
}

pub const ONE_BACKUP: &str =
    r#"{"total_num":1,"backup_record_response":[{"backup_id":"b1","status":"succeed","size":10}]}"#;
