//! A proxy in front of the simulator that loses answers on purpose.
//!
//! The simulator decides its faults before acting, so a dropped connection there always means
//! "nothing happened". The dangerous case for duplicates is the other one: the cloud created the
//! backup and the answer never arrived. This proxy forwards a create, lets the cloud act on it, and
//! then hangs up without answering (or hangs up before forwarding, for "never reached the cloud").

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use rand::Rng;

/// Returned to hyper to close the connection without an answer.
#[derive(Debug)]
struct HungUp;

impl std::fmt::Display for HungUp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("answer lost on purpose")
    }
}

impl std::error::Error for HungUp {}

#[derive(Default)]
struct Knobs {
    /// Share of create calls whose answer is lost after the cloud acted on them.
    lose_rate: f64,
    /// The next this-many creates reach the cloud and their answers are lost.
    lose_next: usize,
    /// The next this-many creates are cut off before they reach the cloud.
    cut_next: usize,
    /// The next this-many creates reach the cloud only this long after arriving, and are never
    /// answered (the client times out first, and the cloud acts after it gave up).
    late_next: usize,
    late_by: Duration,
}

struct State {
    upstream: String,
    http: reqwest::Client,
    knobs: Mutex<Knobs>,
    lost: AtomicUsize,
    cut: AtomicUsize,
    late: AtomicUsize,
}

/// A running proxy; dropping it does not stop it (the test process ends soon enough).
#[derive(Clone)]
pub struct LossyProxy {
    base: String,
    state: Arc<State>,
}

/// Creates are the only POSTs besides IAM token requests.
fn is_create(req: &Request<Incoming>) -> bool {
    req.method() == http::Method::POST && !req.uri().path().ends_with("/auth/tokens")
}

impl LossyProxy {
    /// Starts a proxy on 127.0.0.1 forwarding to `upstream` (`http://127.0.0.1:port`).
    pub async fn start(upstream: String) -> Self {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(State {
            upstream,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            knobs: Mutex::default(),
            lost: AtomicUsize::new(0),
            cut: AtomicUsize::new(0),
            late: AtomicUsize::new(0),
        });
        let st = state.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let st = st.clone();
                let svc = hyper::service::service_fn(move |req| handle(st.clone(), req));
                tokio::spawn(async move {
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        Self { base, state }
    }

    /// Base URL of one service through the proxy (same prefixes as the simulator).
    pub fn endpoint(&self, svc: &str) -> String {
        format!("{}/{svc}", self.base)
    }

    pub fn set_lose_rate(&self, rate: f64) {
        self.state.knobs.lock().unwrap().lose_rate = rate;
    }

    pub fn lose_next_creates(&self, n: usize) {
        self.state.knobs.lock().unwrap().lose_next = n;
    }

    pub fn cut_next_creates(&self, n: usize) {
        self.state.knobs.lock().unwrap().cut_next = n;
    }

    pub fn late_next_creates(&self, n: usize, by: Duration) {
        let mut k = self.state.knobs.lock().unwrap();
        k.late_next = n;
        k.late_by = by;
    }

    /// Creates that reached the cloud late, unanswered.
    pub fn late(&self) -> usize {
        self.state.late.load(Ordering::SeqCst)
    }

    /// Creates whose answers were lost after the cloud acted.
    pub fn lost(&self) -> usize {
        self.state.lost.load(Ordering::SeqCst)
    }

    /// Creates cut off before reaching the cloud.
    pub fn cut(&self) -> usize {
        self.state.cut.load(Ordering::SeqCst)
    }

    /// Secret data for `base` with every endpoint pointed at this proxy.
    pub fn secret_data(&self, mut base: serde_json::Value) -> serde_json::Value {
        for (key, svc) in [
            ("iamEndpoint", "iam"),
            ("dcsEndpoint", "dcs"),
            ("ddsEndpoint", "dds"),
            ("taurusEndpoint", "taurus"),
        ] {
            base[key] = serde_json::json!(self.endpoint(svc));
        }
        base
    }
}

enum Fate {
    Pass,
    Lose,
    Cut,
    Late(Duration),
}

async fn handle(st: Arc<State>, req: Request<Incoming>) -> Result<Response<Full<Bytes>>, HungUp> {
    let fate = if is_create(&req) {
        let mut k = st.knobs.lock().unwrap();
        if k.cut_next > 0 {
            k.cut_next -= 1;
            Fate::Cut
        } else if k.late_next > 0 {
            k.late_next -= 1;
            Fate::Late(k.late_by)
        } else if k.lose_next > 0 {
            k.lose_next -= 1;
            Fate::Lose
        } else if k.lose_rate > 0.0 && rand::rng().random::<f64>() < k.lose_rate {
            Fate::Lose
        } else {
            Fate::Pass
        }
    } else {
        Fate::Pass
    };
    if matches!(fate, Fate::Cut) {
        st.cut.fetch_add(1, Ordering::SeqCst);
        return Err(HungUp);
    }
    let (parts, body) = req.into_parts();
    let body = body.collect().await.map_err(|_| HungUp)?.to_bytes();
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    // The Host header is forwarded as received: the signature covers it.
    let forward = st
        .http
        .request(parts.method, format!("{}{path}", st.upstream))
        .headers(parts.headers)
        .body(body);
    if let Fate::Late(by) = fate {
        // Detached, so the create lands even though nobody waits for it any more.
        let late = st.clone();
        tokio::spawn(async move {
            tokio::time::sleep(by).await;
            if forward.send().await.is_ok() {
                late.late.fetch_add(1, Ordering::SeqCst);
            }
        });
        tokio::time::sleep(by * 2).await;
        return Err(HungUp);
    }
    let upstream = forward.send().await.map_err(|_| HungUp)?;
    let status = upstream.status();
    let headers = upstream.headers().clone();
    let body = upstream.bytes().await.map_err(|_| HungUp)?;
    if matches!(fate, Fate::Lose) {
        st.lost.fetch_add(1, Ordering::SeqCst);
        return Err(HungUp);
    }
    let mut resp = Response::new(Full::new(body));
    *resp.status_mut() = status;
    *resp.headers_mut() = headers;
    Ok(resp)
}
