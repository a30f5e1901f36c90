//! IAM password tokens: fetched with `POST /v3/auth/tokens`, cached per account, refreshed before
//! expiry by exactly one caller while the others wait for its result.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use http::Method;
use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;
use serde_json::json;
use url::Url;

use super::endpoints::join;
use super::error::{Error, code_suffix};
use super::rate_limit::Limiter;
use super::transport::{Credential, Reply, Request, Transport};
use super::wire::{Loose, decode, missing};

/// Refresh when less than this remains (the SDKs' margin for temporary credentials).
const REFRESH_MARGIN: SignedDuration = SignedDuration::from_secs(40 * 60);
/// An old token is still served if a refresh fails and at least this much of it remains.
const MIN_USABLE: SignedDuration = SignedDuration::from_secs(60);

/// A project-scoped IAM token. Debug never shows the token.
pub(crate) struct IamToken {
    value: String,
    expires_at: Timestamp,
    refresh_at: Timestamp,
    /// `token.project.id` from the response body.
    pub project_id: Option<String>,
}

impl fmt::Debug for IamToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IamToken")
            .field("value", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .field("project_id", &self.project_id)
            .finish()
    }
}

impl IamToken {
    /// A token valid until `expires_at`, refreshed 40 minutes before that, or halfway through
    /// its life for short-lived tokens (so that they are not refreshed on every call).
    pub(crate) fn new(
        value: String,
        expires_at: Timestamp,
        project_id: Option<String>,
        now: Timestamp,
    ) -> Self {
        let life = expires_at.duration_since(now);
        let margin = REFRESH_MARGIN.min(life / 2).max(SignedDuration::ZERO);
        let refresh_at = expires_at.checked_sub(margin).unwrap_or(expires_at);
        Self {
            value,
            expires_at,
            refresh_at,
            project_id,
        }
    }

    pub(crate) fn value(&self) -> &str {
        &self.value
    }

    fn fresh(&self, now: Timestamp) -> bool {
        now < self.refresh_at
    }

    fn usable(&self, now: Timestamp) -> bool {
        self.expires_at.duration_since(now) > MIN_USABLE
    }
}

/// The cached token of one account.
#[derive(Default)]
pub(crate) struct TokenCache {
    // A tokio mutex held across the fetch is the single flight: concurrent callers queue behind
    // the one refreshing and then find the fresh token.
    slot: tokio::sync::Mutex<Option<Arc<IamToken>>>,
}

impl TokenCache {
    /// The cached token while fresh; otherwise the result of `fetch`. If the refresh fails for
    /// a reason other than rejected credentials, a still-valid old token is served.
    pub(crate) async fn get<F, Fut>(&self, fetch: F) -> Result<Arc<IamToken>, Error>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<IamToken, Error>>,
    {
        let mut slot = self.slot.lock().await;
        if let Some(token) = slot.as_ref().filter(|t| t.fresh(Timestamp::now())) {
            return Ok(token.clone());
        }
        match fetch().await {
            Ok(token) => {
                let token = Arc::new(token);
                *slot = Some(token.clone());
                Ok(token)
            }
            Err(e) => match slot.as_ref() {
                Some(old) if !matches!(e, Error::Auth(_)) && old.usable(Timestamp::now()) => {
                    tracing::warn!(error = %e, "IAM token refresh failed; using the current token");
                    Ok(old.clone())
                }
                _ => {
                    *slot = None;
                    Err(e)
                }
            },
        }
    }

    /// Drops `rejected` (a service answered 401) so that the next call logs in again; a newer
    /// token fetched meanwhile is kept.
    pub(crate) async fn invalidate(&self, rejected: &IamToken) {
        let mut slot = self.slot.lock().await;
        if slot.as_ref().is_some_and(|t| t.value == rejected.value) {
            *slot = None;
        }
    }
}

/// Which project the token is scoped to.
pub(crate) enum Scope<'a> {
    ProjectId(&'a str),
    /// By name: the region name is the default project's name.
    ProjectName(&'a str),
}

/// A password login of one IAM user.
pub(crate) struct PasswordLogin<'a> {
    pub username: &'a str,
    pub password: &'a str,
    pub domain_name: &'a str,
    pub scope: Scope<'a>,
}

#[derive(Deserialize)]
struct TokenBody {
    token: TokenPart,
}

#[derive(Deserialize)]
struct TokenPart {
    #[serde(default)]
    expires_at: Loose,
    #[serde(default)]
    project: Option<ProjectPart>,
}

#[derive(Deserialize)]
struct ProjectPart {
    #[serde(default)]
    id: Loose,
}

const OP: &str = "create_token";

/// Logs in with a password and returns a project-scoped token.
pub(crate) async fn request_token(
    transport: &Transport,
    limiter: Option<&Limiter>,
    iam: &Url,
    login: &PasswordLogin<'_>,
) -> Result<IamToken, Error> {
    let mut url = join(iam, &["v3", "auth", "tokens"])?;
    url.query_pairs_mut().append_pair("nocatalog", "true");
    let project = match login.scope {
        Scope::ProjectId(id) => json!({ "id": id }),
        Scope::ProjectName(name) => json!({ "name": name }),
    };
    let body = json!({ "auth": {
        "identity": { "methods": ["password"], "password": { "user": {
            "name": login.username, "password": login.password,
            "domain": { "name": login.domain_name } } } },
        "scope": { "project": project } } });
    let req = Request::new("iam", OP, Method::POST, url)
        .json(&body)
        .idempotent();
    let result = transport
        .send(limiter, &req, &Credential::Anonymous, |reply| {
            parse_token(reply, Timestamp::now())
        })
        .await;
    result.map_err(|e| match e {
        // IAM answers a bad password with 401 and a numeric code; say what was refused. The
        // request id goes to the log only: the message ends up in status, which must not change
        // with every attempt.
        Error::Api {
            status: status @ (401 | 403),
            code,
            message,
            request_id,
            ..
        } => {
            tracing::warn!(
                status,
                code = %code,
                request_id = request_id.as_deref().unwrap_or_default(),
                "IAM refused the password login"
            );
            Error::Auth(format!(
                "IAM refused the password login of user {:?} in domain {:?}: HTTP {status}{}: {message}",
                login.username,
                login.domain_name,
                code_suffix(&code),
            ))
        }
        other => other,
    })
}

/// Reads the token from `X-Subject-Token` and its expiry and project from the body.
fn parse_token(reply: &Reply, now: Timestamp) -> Result<IamToken, Error> {
    let value = reply
        .header("x-subject-token")
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| missing("iam", OP, "X-Subject-Token header"))?
        .to_string();
    let body: TokenBody = decode("iam", OP, &reply.body)?;
    let expires_at = body
        .token
        .expires_at
        .text()
        .and_then(|t| t.parse::<Timestamp>().ok())
        .ok_or_else(|| missing("iam", OP, "token.expires_at"))?;
    if expires_at <= now {
        return Err(Error::Decode {
            service: "iam",
            operation: OP,
            message: "token has already expired".into(),
        });
    }
    let project_id = body.token.project.and_then(|p| p.id.id());
    Ok(IamToken::new(value, expires_at, project_id, now))
}

#[cfg(test)]
#[path = "token_tests.rs"]
mod tests;
