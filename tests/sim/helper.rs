//! A raw HTTP client for the simulator tests that signs with `cloud::signer`, and can break things
//! on purpose (tampered body, stale date, wrong key).

use std::time::Duration;

use hwcloud_backup_operator::cloud::signer;
use hwcloud_backup_operator::sim::{SimConfig, SimHandle, Simulator};
use reqwest::Method;
use serde_json::Value;

/// A simulator with fast operations, and a client for it.
pub async fn start(cfg: SimConfig) -> (SimHandle, Client) {
    let sim = Simulator::start(cfg).await.unwrap();
    let client = Client::new(&sim);
    (sim, client)
}

/// Default config with `backup_duration` set.
pub fn cfg(backup_duration: Duration) -> SimConfig {
    SimConfig {
        backup_duration,
        ..SimConfig::default()
    }
}

/// One answer, fully read.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", String::from_utf8_lossy(&self.body)))
    }

    /// `error_code` of a `{"error_code","error_msg"}` body.
    pub fn code(&self) -> String {
        self.json()["error_code"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    pub fn msg(&self) -> String {
        self.json()["error_msg"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

/// How to authenticate and what to break.
#[derive(Debug, Clone)]
pub struct Req {
    pub method: Method,
    pub path: String,
    pub query: Option<String>,
    pub body: Option<Vec<u8>>,
    pub date_offset_secs: i64,
    pub tamper_body: bool,
    pub token: Option<String>,
    pub sign: bool,
    pub access_key: Option<String>,
    pub secret_key: Option<String>,
    pub extra_headers: Vec<(String, String)>,
}

impl Req {
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        Self {
            method,
            path: path.into(),
            query: None,
            body: None,
            date_offset_secs: 0,
            tamper_body: false,
            token: None,
            sign: true,
            access_key: None,
            secret_key: None,
            extra_headers: Vec::new(),
        }
    }
    pub fn get(path: impl Into<String>) -> Self {
        Self::new(Method::GET, path)
    }
    pub fn post(path: impl Into<String>, body: Value) -> Self {
        Self::new(Method::POST, path).json(body)
    }
    pub fn delete(path: impl Into<String>) -> Self {
        Self::new(Method::DELETE, path)
    }
    pub fn json(mut self, v: Value) -> Self {
        self.body = Some(v.to_string().into_bytes());
        self
    }
    pub fn query(mut self, q: &str) -> Self {
        self.query = Some(q.to_string());
        self
    }
    pub fn date_offset(mut self, secs: i64) -> Self {
        self.date_offset_secs = secs;
        self
    }
    pub fn tampered(mut self) -> Self {
        self.tamper_body = true;
        self
    }
    pub fn token(mut self, t: &str) -> Self {
        self.token = Some(t.to_string());
        self.sign = false;
        self
    }
    pub fn unsigned(mut self) -> Self {
        self.sign = false;
        self
    }
    pub fn keys(mut self, ak: &str, sk: &str) -> Self {
        self.access_key = Some(ak.into());
        self.secret_key = Some(sk.into());
        self
    }
    pub fn header(mut self, k: &str, v: &str) -> Self {
        self.extra_headers.push((k.into(), v.into()));
        self
    }
}

/// Signs requests the way the SDKs do: `host;x-sdk-date` (+ `content-type`, + extra headers).
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    pub base: String,
    host: String,
    pub ak: String,
    pub sk: String,
    pub pid: String,
}

impl Client {
    pub fn new(sim: &SimHandle) -> Self {
        let base = sim.base_url();
        let host = base.trim_start_matches("http://").to_string();
        Self {
            // No pooling: a connection dropped by fault injection must not poison the next call.
            http: reqwest::Client::builder()
                .pool_max_idle_per_host(0)
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap(),
            base,
            host,
            ak: sim.config().access_key.clone(),
            sk: sim.config().secret_key.clone(),
            pid: sim.config().project_id.clone(),
        }
    }

    /// Sends, panicking on transport errors.
    pub async fn call(&self, req: Req) -> Reply {
        self.try_call(req).await.unwrap()
    }

    pub async fn try_call(&self, req: Req) -> Result<Reply, reqwest::Error> {
        let date = jiff::Timestamp::now()
            .checked_add(jiff::SignedDuration::from_secs(req.date_offset_secs))
            .unwrap()
            .strftime(signer::DATE_FORMAT)
            .to_string();
        let mut headers: Vec<(String, String)> = vec![
            ("host".into(), self.host.clone()),
            ("x-sdk-date".into(), date),
        ];
        if req.body.is_some() {
            headers.push(("content-type".into(), "application/json".into()));
        }
        headers.extend(req.extra_headers.iter().cloned());
        let mut body = req.body.clone().unwrap_or_default();
        let mut builder = self.http.request(
            req.method.clone(),
            match &req.query {
                Some(q) => format!("{}{}?{q}", self.base, req.path),
                None => format!("{}{}", self.base, req.path),
            },
        );
        if req.sign {
            let names: Vec<String> = headers.iter().map(|(k, _)| k.clone()).collect();
            let hash = signer::payload_hash(&body);
            let input = signer::SigningInput {
                method: req.method.as_str(),
                path: &req.path,
                query: req.query.as_deref(),
                headers: &headers,
                signed_headers: &names,
                payload_hash: &hash,
            };
            let auth = signer::authorization(
                req.access_key.as_deref().unwrap_or(&self.ak),
                req.secret_key.as_deref().unwrap_or(&self.sk),
                &input,
            );
            builder = builder.header("authorization", auth);
        }
        if let Some(t) = &req.token {
            builder = builder.header("x-auth-token", t);
        }
        if req.tamper_body {
            let last = body.len() - 2;
            body[last] ^= 0x01;
        }
        for (k, v) in headers.iter().filter(|(k, _)| k != "host") {
            builder = builder.header(k, v);
        }
        if req.body.is_some() {
            builder = builder.body(body);
        }
        let resp = builder.send().await?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.bytes().await?.to_vec();
        Ok(Reply {
            status,
            headers,
            body,
        })
    }

    /// `/dcs/{ver}/{pid}/instances/{iid}/{rest}`.
    pub fn dcs(&self, ver: &str, iid: &str, rest: &str) -> String {
        format!("/dcs/{ver}/{}/instances/{iid}/{rest}", self.pid)
    }

    /// `/{svc}/v3/{pid}/{rest}` for DDS and TaurusDB.
    pub fn v3(&self, svc: &str, rest: &str) -> String {
        format!("/{svc}/v3/{}/{rest}", self.pid)
    }
}
