//! Simulated dds backup APIs (in progress: only the fallback for now).

use std::sync::Arc;

use axum::Router;

use super::reply::no_such_api;
use super::state::Shared;

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .fallback(|| async { no_such_api() })
        .with_state(shared)
}
