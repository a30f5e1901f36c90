//! A proxy in front of the simulator that runs a test's hook before forwarding each request, so a
//! scenario can make the cloud change at an exact moment of the operator's conversation with it
//! (a backup landing between two pages of a list, or just before a create).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::response::Response;

/// What the hook sees of a request: method, path with query, and body.
pub type Hook =
    dyn Fn(&Method, &str, &Bytes) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync;

#[derive(Clone)]
struct Proxy {
    upstream: String,
    http: reqwest::Client,
    hook: Arc<Hook>,
}

/// Starts a proxy to `upstream` (`http://127.0.0.1:port`); returns its base URL.
pub async fn start(upstream: String, hook: Arc<Hook>) -> String {
    let proxy = Proxy {
        upstream,
        http: reqwest::Client::new(),
        hook,
    };
    let app = axum::Router::new().fallback(forward).with_state(proxy);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binds");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

async fn forward(State(p): State<Proxy>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body = to_bytes(body, usize::MAX).await.unwrap_or_default();
    let target = parts.uri.path_and_query().map_or("/", |pq| pq.as_str());
    (p.hook)(&parts.method, target, &body).await;
    // Headers go as received: the signature covers the Host the client signed for.
    let sent = p
        .http
        .request(parts.method, format!("{}{target}", p.upstream))
        .headers(parts.headers)
        .body(body)
        .send()
        .await;
    let Ok(answer) = sent else {
        return Response::builder()
            .status(StatusCode::BAD_GATEWAY)
            .body(Body::empty())
            .expect("response");
    };
    let mut resp = Response::builder().status(answer.status());
    for (k, v) in answer.headers() {
        resp = resp.header(k, v);
    }
    let bytes = answer.bytes().await.unwrap_or_default();
    resp.body(Body::from(bytes)).expect("response")
}

/// Secret data for `base` with the DCS, DDS and TaurusDB endpoints pointed at the proxy.
pub fn secret_data(mut data: serde_json::Value, proxy: &str) -> serde_json::Value {
    for (key, svc) in [
        ("dcsEndpoint", "dcs"),
        ("ddsEndpoint", "dds"),
        ("taurusEndpoint", "taurus"),
    ] {
        data[key] = serde_json::json!(format!("{proxy}/{svc}"));
    }
    data
}
