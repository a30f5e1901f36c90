//! The operator's HTTP endpoints: `/metrics` (OpenMetrics), `/healthz` (liveness) and `/readyz` (readiness).
use std::{
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};

use axum::{
    Router,
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use tokio::net::TcpListener;

use crate::metrics::{self, Metrics};

/// What `/readyz` reports. The operator flips the flags as it starts; both must be set to be ready.
#[derive(Debug, Default)]
pub struct Readiness {
    caches_synced: AtomicBool,
    leadership_known: AtomicBool,
}

impl Readiness {
    pub fn new() -> Self {
        Self::default()
    }

    /// The watch caches have their initial lists (a standby replica that runs no controllers sets it too).
    pub fn set_caches_synced(&self, synced: bool) {
        self.caches_synced.store(synced, Ordering::Release);
    }

    /// The replica knows whether it leads (true at once when leader election is off). A standby that knows it
    /// is not the leader is ready: readiness says "working as intended", not "holding the lease".
    pub fn set_leadership_known(&self, known: bool) {
        self.leadership_known.store(known, Ordering::Release);
    }

    /// `Ok` when ready, else the first missing condition as a short reason.
    pub fn check(&self) -> Result<(), &'static str> {
        if !self.caches_synced.load(Ordering::Acquire) {
            Err("caches not synced")
        } else if !self.leadership_known.load(Ordering::Acquire) {
            Err("leadership not known")
        } else {
            Ok(())
        }
    }
}

/// State shared by the handlers.
#[derive(Clone, Debug)]
pub struct HttpState {
    pub metrics: Arc<Metrics>,
    pub readiness: Arc<Readiness>,
}

pub fn router(state: HttpState) -> Router {
    Router::new()
        .route("/metrics", get(metrics_handler))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(state)
}

/// Serves the endpoints on `listener` until `shutdown` completes.
pub async fn serve<F>(listener: TcpListener, state: HttpState, shutdown: F) -> std::io::Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}

async fn metrics_handler(State(state): State<HttpState>) -> Response {
    (
        [(header::CONTENT_TYPE, metrics::CONTENT_TYPE)],
        state.metrics.encode(),
    )
        .into_response()
}

/// Liveness: answering at all is the signal; a wedged runtime does not answer and gets restarted.
async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(State(state): State<HttpState>) -> (StatusCode, &'static str) {
    match state.readiness.check() {
        Ok(()) => (StatusCode::OK, "ok"),
        Err(reason) => (StatusCode::SERVICE_UNAVAILABLE, reason),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::oneshot;

    struct Server {
        base: String,
        state: HttpState,
        stop: oneshot::Sender<()>,
        task: tokio::task::JoinHandle<std::io::Result<()>>,
    }

    async fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let state = HttpState {
            metrics: Arc::new(Metrics::new()),
            readiness: Arc::new(Readiness::new()),
        };
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(serve(listener, state.clone(), async {
            let _ = stopped.await;
        }));
        Server {
            base,
            state,
            stop,
            task,
        }
    }

    async fn get(url: String) -> (u16, String, String) {
        let resp = reqwest::get(url).await.unwrap();
        let status = resp.status().as_u16();
        let ctype = resp
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        (status, ctype, resp.text().await.unwrap())
    }

    #[tokio::test]
    async fn health_readiness_and_shutdown() {
        let s = start().await;
        assert_eq!(get(format!("{}/healthz", s.base)).await.0, 200);

        let (status, _, body) = get(format!("{}/readyz", s.base)).await;
        assert_eq!((status, body.as_str()), (503, "caches not synced"));
        s.state.readiness.set_caches_synced(true);
        let (status, _, body) = get(format!("{}/readyz", s.base)).await;
        assert_eq!((status, body.as_str()), (503, "leadership not known"));
        s.state.readiness.set_leadership_known(true);
        assert_eq!(get(format!("{}/readyz", s.base)).await.0, 200);
        s.state.readiness.set_caches_synced(false);
        assert_eq!(get(format!("{}/readyz", s.base)).await.0, 503);

        assert_eq!(get(format!("{}/nope", s.base)).await.0, 404);

        s.stop.send(()).unwrap();
        s.task.await.unwrap().unwrap();
        assert!(
            reqwest::get(format!("{}/healthz", s.base)).await.is_err(),
            "still serving after shutdown"
        );
    }

    #[tokio::test]
    async fn metrics_endpoint_serves_openmetrics() {
        let s = start().await;
        s.state.metrics.set_leader(true);
        s.state.metrics.reconcile_error("dcsrestore", "InvalidSpec");
        let (status, ctype, body) = get(format!("{}/metrics", s.base)).await;
        assert_eq!(status, 200);
        assert_eq!(ctype, metrics::CONTENT_TYPE);
        assert!(body.contains("hwcloud_backup_leader 1"), "{body}");
        assert!(body.contains(r#"hwcloud_backup_reconcile_errors_total{controller="dcsrestore",reason="InvalidSpec"} 1"#));
        assert!(body.ends_with("# EOF\n"));
    }
}
