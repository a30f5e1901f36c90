//! Simulated IAM under `/iam`: password tokens and project lookup by region name.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::from_fn_with_state;
use axum::response::Response;
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::auth;
use super::reply::{IAM_TIME, fmt_time, json_response, no_such_api};
use super::state::{Shared, Token};

/// The simulated account's domain id (no API here needs it to vary).
const DOMAIN_ID: &str = "0d1e2f3a4b5c4d6e7f8091a2b3c4d5e6";
/// The simulated IAM user's id.
const USER_ID: &str = "5e6f7a8b9c0d4e1f2a3b4c5d6e7f8091";

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let lookups = Router::new()
        .route("/v3/projects", get(list_projects))
        .layer(from_fn_with_state(shared.clone(), auth::require_any));
    Router::new()
        .route("/v3/auth/tokens", post(issue_token))
        .merge(lookups)
        .fallback(|| async { no_such_api() })
        .with_state(shared)
}

/// IAM's own error shape: `{"error":{"code":<number>,"message","title"}}`.
fn iam_error(status: StatusCode, message: &str) -> Response {
    json_response(
        status,
        json!({ "error": {
            "code": status.as_u16(),
            "message": message,
            "title": status.canonical_reason().unwrap_or_default(),
        }}),
    )
}

fn project_json(sh: &Shared) -> Value {
    json!({
        "id": sh.cfg.project_id,
        "name": sh.cfg.region,
        "domain_id": DOMAIN_ID,
        "enabled": true,
        "is_domain": false,
        "parent_id": DOMAIN_ID,
        "description": "",
    })
}

async fn issue_token(State(sh): State<Arc<Shared>>, body: Bytes) -> Response {
    let Ok(v) = serde_json::from_slice::<Value>(&body) else {
        return iam_error(
            StatusCode::BAD_REQUEST,
            "The request body is not valid JSON.",
        );
    };
    let identity = &v["auth"]["identity"];
    let has_password_method = identity["methods"]
        .as_array()
        .is_some_and(|m| m.iter().any(|x| x == "password"));
    let user = &identity["password"]["user"];
    let (Some(name), Some(password), Some(domain)) = (
        user["name"].as_str(),
        user["password"].as_str(),
        user["domain"]["name"].as_str(),
    ) else {
        return iam_error(
            StatusCode::BAD_REQUEST,
            "auth.identity.password.user needs name, password and domain.name.",
        );
    };
    if !has_password_method {
        return iam_error(
            StatusCode::BAD_REQUEST,
            "auth.identity.methods must include password.",
        );
    }
    let cfg = &sh.cfg;
    if name != cfg.username || password != cfg.password || domain != cfg.domain_name {
        return iam_error(
            StatusCode::UNAUTHORIZED,
            "The username or password is wrong.",
        );
    }
    // Project scope by id or by name; the only project is named after the region.
    let scope = &v["auth"]["scope"]["project"];
    let project_id = if scope.is_object() {
        let by_id = scope["id"].as_str() == Some(cfg.project_id.as_str());
        let by_name = scope["name"].as_str() == Some(cfg.region.as_str());
        if !(by_id || by_name) {
            return iam_error(StatusCode::BAD_REQUEST, "The project does not exist.");
        }
        Some(cfg.project_id.clone())
    } else {
        None
    };
    let token = format!(
        "MIIsim{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let issued_at = jiff::Timestamp::now();
    let expires_at = issued_at.checked_add(cfg.token_ttl).unwrap_or(issued_at);
    sh.lock().tokens.insert(
        token.clone(),
        Token {
            project_id: project_id.clone(),
            expires: Instant::now() + cfg.token_ttl,
        },
    );
    let mut body = json!({ "token": {
        "expires_at": fmt_time(expires_at, IAM_TIME),
        "issued_at": fmt_time(issued_at, IAM_TIME),
        "methods": ["password"],
        "user": {
            "id": USER_ID,
            "name": cfg.username,
            "domain": { "id": DOMAIN_ID, "name": cfg.domain_name },
        },
        "catalog": [],
    }});
    if project_id.is_some() {
        body["token"]["project"] = json!({
            "id": cfg.project_id,
            "name": cfg.region,
            "domain": { "id": DOMAIN_ID, "name": cfg.domain_name },
        });
    } else {
        body["token"]["domain"] = json!({ "id": DOMAIN_ID, "name": cfg.domain_name });
    }
    let mut resp = json_response(StatusCode::CREATED, body);
    if let Ok(v) = HeaderValue::from_str(&token) {
        resp.headers_mut().insert("x-subject-token", v);
    }
    resp
}

async fn list_projects(
    State(sh): State<Arc<Shared>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let matches = q.get("name").is_none_or(|n| n == &sh.cfg.region);
    let projects: Vec<Value> = if matches {
        vec![project_json(&sh)]
    } else {
        Vec::new()
    };
    json_response(StatusCode::OK, json!({ "projects": projects }))
}
