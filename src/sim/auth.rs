//! Authentication middleware: an AK/SK signature or an IAM token, as the API gateway checks them.
//!
//! The signature is verified over the request exactly as received (path with the service prefix,
//! raw query, the listed headers, the body's hash), so any client-side canonicalisation slip shows.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{StatusCode, Uri, request::Parts};
use axum::middleware::Next;
use axum::response::Response;

use super::reply::api_error;
use super::state::Shared;
use crate::cloud::signer;

/// The request URI as it reached the server, before axum strips the service prefix.
#[derive(Debug, Clone)]
pub(crate) struct ReceivedUri(pub Uri);

/// Largest body accepted (the APIs here take tiny JSON bodies).
const BODY_LIMIT: usize = 1 << 20;
/// Largest clock difference the gateway tolerates in `X-Sdk-Date`.
const MAX_SKEW: Duration = Duration::from_secs(15 * 60);

const AUTH_CODE: &str = "APIGW.0301";

/// Why a request is refused; both answer 401 `APIGW.0301`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Denied {
    /// Bad or missing credentials, with the detail the gateway gives.
    Unauthorized(&'static str),
    /// Too many signature failures in a row.
    Locked,
}

impl Denied {
    fn into_response(self) -> Response {
        let msg = match self {
            Self::Unauthorized(detail) => {
                format!("Incorrect IAM authentication information: {detail}")
            }
            Self::Locked => "AK access failed to reach the limit, forbidden".to_string(),
        };
        api_error(StatusCode::UNAUTHORIZED, AUTH_CODE, &msg)
    }
}

fn unauthorized(detail: &'static str) -> Denied {
    Denied::Unauthorized(detail)
}

/// Whether a service path must carry the configured project id (`/{svc}/{version}/{project_id}/...`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    /// Service APIs: the project id in the path (third segment) must match.
    Project,
    /// IAM project lookup: any valid credentials.
    Any,
}

/// Middleware for service routes: signature or token, then the project check.
pub(crate) async fn require_project(
    State(shared): State<Arc<Shared>>,
    req: Request,
    next: Next,
) -> Response {
    authenticate(shared, req, next, Scope::Project).await
}

/// Middleware for IAM lookups: signature or token, no project in the path.
pub(crate) async fn require_any(
    State(shared): State<Arc<Shared>>,
    req: Request,
    next: Next,
) -> Response {
    authenticate(shared, req, next, Scope::Any).await
}

async fn authenticate(shared: Arc<Shared>, req: Request, next: Next, scope: Scope) -> Response {
    let (parts, body) = req.into_parts();
    let Ok(bytes) = to_bytes(body, BODY_LIMIT).await else {
        return api_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "APIGW.0201",
            "Request entity too large",
        );
    };
    let uri = parts
        .extensions
        .get::<ReceivedUri>()
        .map(|r| r.0.clone())
        .unwrap_or_else(|| parts.uri.clone());
    if let Err(denied) = check(&shared, &parts, &uri, &bytes, scope) {
        return denied.into_response();
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

fn header<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts.headers.get(name).and_then(|v| v.to_str().ok())
}

/// `Ok` when the request may proceed.
fn check(
    shared: &Shared,
    parts: &Parts,
    uri: &Uri,
    body: &[u8],
    scope: Scope,
) -> Result<(), Denied> {
    let token_project = if let Some(token) = header(parts, "x-auth-token") {
        Some(check_token(shared, token, scope)?)
    } else if let Some(auth) = header(parts, "authorization") {
        check_signature(shared, parts, uri, body, auth)?;
        None
    } else {
        return Err(unauthorized("no Authorization or X-Auth-Token header"));
    };
    if scope == Scope::Any {
        return Ok(());
    }
    let expected = &shared.cfg.project_id;
    let in_path = uri.path().split('/').nth(3).unwrap_or_default();
    let in_header = header(parts, "x-project-id").unwrap_or(expected);
    let in_token = token_project.flatten();
    if in_path != expected || in_header != expected || in_token.is_some_and(|p| &p != expected) {
        return Err(unauthorized("project id mismatch"));
    }
    Ok(())
}

/// Validates a token; returns its project (outer `Some` = token auth was used).
fn check_token(shared: &Shared, token: &str, scope: Scope) -> Result<Option<String>, Denied> {
    let store = shared.lock();
    let Some(t) = store.tokens.get(token) else {
        return Err(unauthorized("the token is invalid"));
    };
    if Instant::now() >= t.expires {
        return Err(unauthorized("the token has expired"));
    }
    if scope == Scope::Project && t.project_id.is_none() {
        return Err(unauthorized("the token is not scoped to a project"));
    }
    Ok(t.project_id.clone())
}

fn check_signature(
    shared: &Shared,
    parts: &Parts,
    uri: &Uri,
    body: &[u8],
    auth: &str,
) -> Result<(), Denied> {
    let Some(parsed) = signer::parse_authorization(auth) else {
        return Err(unauthorized("malformed Authorization header"));
    };
    let cfg = &shared.cfg;
    if parsed.access_key != cfg.access_key {
        return Err(unauthorized("the access key does not exist"));
    }
    let now = Instant::now();
    let mut store = shared.lock();
    if store.ak.locked(now) {
        return Err(Denied::Locked);
    }
    let signed: Vec<String> = parsed
        .signed_headers
        .iter()
        .map(|h| h.to_ascii_lowercase())
        .collect();
    if !signed.iter().any(|h| h == signer::DATE_HEADER) {
        return Err(unauthorized("x-sdk-date must be a signed header"));
    }
    let date_ok = header(parts, signer::DATE_HEADER)
        .and_then(parse_sdk_date)
        .is_some_and(|t| jiff::Timestamp::now().duration_since(t).unsigned_abs() <= MAX_SKEW);
    if !date_ok {
        store.ak.fail(now, cfg.ak_lock_duration);
        return Err(unauthorized(
            "the x-sdk-date is missing or more than 15 minutes from server time",
        ));
    }
    let headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let payload_hash = header(parts, signer::CONTENT_SHA256_HEADER)
        .map(str::to_string)
        .unwrap_or_else(|| signer::payload_hash(body));
    let input = signer::SigningInput {
        method: parts.method.as_str(),
        path: uri.path(),
        query: uri.query(),
        headers: &headers,
        signed_headers: &signed,
        payload_hash: &payload_hash,
    };
    if !signer::verify(&cfg.secret_key, &input, &parsed.signature) {
        store.ak.fail(now, cfg.ak_lock_duration);
        return Err(unauthorized("verify aksk signature fail"));
    }
    store.ak.succeed();
    Ok(())
}

/// `20260102T030405Z` as a UTC instant.
fn parse_sdk_date(raw: &str) -> Option<jiff::Timestamp> {
    let dt = jiff::civil::DateTime::strptime(signer::DATE_FORMAT, raw.trim()).ok()?;
    dt.to_zoned(jiff::tz::TimeZone::UTC)
        .ok()
        .map(|z| z.timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sdk_dates_parse_as_utc() {
        let t = parse_sdk_date("20200608T023900Z").unwrap();
        assert_eq!(t.to_string(), "2020-06-08T02:39:00Z");
        assert!(parse_sdk_date("2020-06-08T02:39:00Z").is_none());
        assert!(parse_sdk_date("").is_none());
    }
}
