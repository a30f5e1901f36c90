//! The accept loop and front door: request id, call log, faults, then the axum router.
//!
//! hyper is driven directly (not through `axum::serve`) because a dropped connection is modelled by
//! the service returning an error, which makes hyper close the connection without answering.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderValue, Request, Response};
use hyper::body::Incoming;
use hyper::service::Service as _;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;

use super::SimCall;
use super::auth::ReceivedUri;
use super::faults::{self, Injected};
use super::reply::no_such_api;
use super::state::Shared;
use super::{dcs, dds, iam, taurus};

/// Returned by the front door to make hyper hang up without a response.
#[derive(Debug, thiserror::Error)]
#[error("connection dropped by fault injection")]
struct Dropped;

/// All services, each under its prefix.
fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .nest("/iam", iam::router(shared.clone()))
        .nest("/dcs", dcs::router(shared.clone()))
        .nest("/dds", dds::router(shared.clone()))
        .nest("/taurus", taurus::router(shared))
        .fallback(|| async { no_such_api() })
}

/// Accepts connections forever; each connection is served on its own task.
pub(crate) async fn serve(shared: Arc<Shared>, listener: TcpListener) -> std::io::Result<()> {
    let app = router(shared.clone());
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                // Out of file descriptors and the like: back off instead of spinning.
                tracing::warn!(error = %e, "simulator accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let shared = shared.clone();
        let app = app.clone();
        let svc =
            hyper::service::service_fn(move |req| front_door(shared.clone(), app.clone(), req));
        tokio::spawn(async move {
            // Errors here are client hang-ups and injected drops; neither concerns the server.
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}

async fn front_door(
    shared: Arc<Shared>,
    app: Router,
    req: Request<Incoming>,
) -> Result<Response<Body>, Dropped> {
    let (service, operation) = faults::classify(req.method(), req.uri().path());
    let method = req.method().to_string();
    let record = |status: u16| {
        shared.lock().calls.push(SimCall {
            method: method.clone(),
            service,
            operation,
            status,
        });
    };
    let latency = shared.lock().faults.latency;
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let injected = {
        let mut s = shared.lock();
        let injected = faults::decide(&s.faults, s.injected);
        if !matches!(injected, Injected::None | Injected::Drop) {
            s.injected += 1;
        }
        injected
    };
    if injected == Injected::Drop {
        record(0);
        return Err(Dropped);
    }
    let mut resp = match faults::error_response(injected) {
        Some(resp) => resp,
        None => {
            let mut req = req.map(Body::new);
            let uri = req.uri().clone();
            req.extensions_mut().insert(ReceivedUri(uri));
            match TowerToHyperService::new(app).call(req).await {
                Ok(resp) => resp,
                Err(never) => match never {},
            }
        }
    };
    let request_id = uuid::Uuid::new_v4().simple().to_string();
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        resp.headers_mut().insert("x-request-id", v);
    }
    record(resp.status().as_u16());
    Ok(resp)
}
