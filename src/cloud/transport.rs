//! The HTTP transport: one shared client, per-request timeout, rate limiting, bounded retries of
//! transient failures, and one observation per attempt.
//!
//! Errors and logs carry the service, operation, status, cloud error code and request id, never a
//! header value: the `Authorization`, `X-Auth-Token` and `X-Security-Token` values stay in here.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderValue};
use http::{Method, StatusCode};
use url::Url;

use super::allow::AllowedHosts;
use super::auth::{AkSkSigner, token_header};
use super::error::{Error, parse_error_body, truncate};
use super::rate_limit::Limiter;
use super::retry::{may_retry, next_delay, retry_after};
use super::wire::{describe_body, is_empty_body, is_json};

/// Timeouts, retry and rate-limit settings shared by every cloud call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportConfig {
    /// Whole-request limit: connect, send and read the body.
    pub request_timeout: Duration,
    /// Attempts per call, the first included (1 disables retries).
    pub max_attempts: u32,
    /// First backoff; doubles per attempt, jittered.
    pub base_backoff: Duration,
    /// Longest single backoff; a `Retry-After` above it ends the call instead of waiting.
    pub max_backoff: Duration,
    /// Requests per second per account (0 disables the limiter).
    pub rate_per_second: u32,
    /// Requests an idle account may send at once.
    pub burst: u32,
    /// Longest a call waits for its account's next rate-limit slot; a later slot fails the call
    /// at once (`Error::RateLimited`) so that no reconcile slot is held while waiting.
    pub max_rate_wait: Duration,
    /// Hosts requests may go to (`--allowed-endpoint-hosts`); every request URL is checked.
    pub allowed_hosts: AllowedHosts,
}

impl Default for TransportConfig {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(30),
            max_attempts: 4,
            base_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(10),
            rate_per_second: 10,
            burst: 20,
            max_rate_wait: Duration::from_millis(200),
            allowed_hosts: AllowedHosts::default(),
        }
    }
}

/// Told about every attempt: `outcome` is `"ok"` or [`Error::reason`].
pub trait CallObserver: Send + Sync {
    fn observe(
        &self,
        service: &'static str,
        operation: &'static str,
        outcome: &'static str,
        elapsed: Duration,
    );
}

/// One logical cloud call; sent once per attempt.
pub(crate) struct Request {
    pub service: &'static str,
    pub operation: &'static str,
    pub method: Method,
    pub url: Url,
    pub body: Option<Bytes>,
    /// Whether repeating the call after it may have been acted on is harmless.
    pub idempotent: bool,
}

impl Request {
    pub(crate) fn new(
        service: &'static str,
        operation: &'static str,
        method: Method,
        url: Url,
    ) -> Self {
        let idempotent = method != Method::POST;
        Self {
            service,
            operation,
            method,
            url,
            body: None,
            idempotent,
        }
    }

    /// Adds a JSON body (the exact bytes that are signed and sent).
    pub(crate) fn json(mut self, body: &serde_json::Value) -> Self {
        self.body = Some(Bytes::from(body.to_string()));
        self
    }

    /// Marks a POST whose repetition is harmless (e.g. fetching an IAM token).
    pub(crate) fn idempotent(mut self) -> Self {
        self.idempotent = true;
        self
    }
}

/// How one attempt is authenticated.
pub(crate) enum Credential<'a> {
    /// IAM password login: the body carries the credentials.
    Anonymous,
    Signed(AkSkSigner<'a>),
    Token(&'a str),
}

/// A response with any status; the body is fully read.
pub(crate) struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// The shared HTTP machinery; one per operator process.
pub(crate) struct Transport {
    http: reqwest::Client,
    cfg: TransportConfig,
    observer: Option<Arc<dyn CallObserver>>,
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transport")
            .field("cfg", &self.cfg)
            .finish_non_exhaustive()
    }
}

/// Why an attempt failed, and whether the request may have reached the server.
struct Failed {
    error: Error,
    sent: bool,
    retry_after: Option<Duration>,
}

impl Transport {
    pub(crate) fn new(cfg: TransportConfig, observer: Option<Arc<dyn CallObserver>>) -> Self {
        let http = reqwest::Client::builder()
            .use_rustls_tls()
            .user_agent(concat!(
                "hwcloud-backup-operator/",
                env!("CARGO_PKG_VERSION")
            ))
            .connect_timeout(cfg.request_timeout.min(Duration::from_secs(10)))
            // A redirect would resend our custom auth headers to another host.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_else(|e| {
                tracing::error!(error = %e, "custom HTTP client failed to build; using defaults");
                reqwest::Client::new()
            });
        Self {
            http,
            cfg,
            observer,
        }
    }

    pub(crate) fn config(&self) -> &TransportConfig {
        &self.cfg
    }

    /// Sends `req` until it succeeds, fails for good, or runs out of attempts. `decode` turns a
    /// success reply into the caller's value; a decode failure is reported and never retried.
    ///
    /// Every cloud request of the process goes through here, so this is where the endpoint
    /// allow-list is enforced: a refused URL fails before the rate limiter, signing or any
    /// connection.
    pub(crate) async fn send<T>(
        &self,
        limiter: Option<&Limiter>,
        req: &Request,
        cred: &Credential<'_>,
        decode: impl Fn(&Reply) -> Result<T, Error>,
    ) -> Result<T, Error> {
        self.cfg.allowed_hosts.admit(req.service, &req.url)?;
        let max_attempts = self.cfg.max_attempts.max(1);
        let mut attempt = 0;
        // The previous attempt's error: a retry the rate limiter holds back is not made, and the
        // call ends with what the cloud said last.
        let mut last: Option<Error> = None;
        loop {
            attempt += 1;
            if let Some(limiter) = limiter
                && let Err(retry_in) = limiter.acquire(self.cfg.max_rate_wait).await
            {
                tracing::debug!(
                    service = req.service,
                    operation = req.operation,
                    attempt,
                    retry_in_ms = retry_in.as_millis() as u64,
                    "rate limited; not sent"
                );
                return Err(last.unwrap_or(Error::RateLimited {
                    service: req.service,
                    operation: req.operation,
                    retry_in,
                }));
            }
            let started = Instant::now();
            let result = match self.attempt(req, cred).await {
                Ok(reply) if reply.status.is_success() => decode_json(req, &reply, &decode)
                    .map_err(|error| Failed {
                        error,
                        sent: true,
                        retry_after: None,
                    }),
                Ok(reply) => Err(Failed {
                    retry_after: retry_after(&reply.headers, jiff::Timestamp::now()),
                    error: api_error(req, &reply),
                    sent: true,
                }),
                Err(failed) => Err(failed),
            };
            let elapsed = started.elapsed();
            let outcome = match &result {
                Ok(_) => "ok",
                Err(f) => f.error.reason(),
            };
            if let Some(observer) = &self.observer {
                observer.observe(req.service, req.operation, outcome, elapsed);
            }
            let failed = match result {
                Ok(value) => return Ok(value),
                Err(failed) => failed,
            };
            let retry =
                attempt < max_attempts && may_retry(&failed.error, req.idempotent, failed.sent);
            let delay = retry
                .then(|| {
                    next_delay(
                        self.cfg.base_backoff,
                        self.cfg.max_backoff,
                        attempt,
                        failed.retry_after,
                    )
                })
                .flatten();
            let Some(delay) = delay else {
                tracing::debug!(
                    service = req.service, operation = req.operation, attempt,
                    error = %failed.error, "cloud call failed"
                );
                return Err(failed.error);
            };
            tracing::debug!(
                service = req.service, operation = req.operation, attempt,
                delay_ms = delay.as_millis() as u64, error = %failed.error, "retrying cloud call"
            );
            last = Some(failed.error);
            tokio::time::sleep(delay).await;
        }
    }

    /// One HTTP exchange, signed afresh (a new `X-Sdk-Date` each time).
    async fn attempt(&self, req: &Request, cred: &Credential<'_>) -> Result<Reply, Failed> {
        let not_sent = |error| Failed {
            error,
            sent: false,
            retry_after: None,
        };
        let body = req.body.clone().unwrap_or_default();
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        if req.body.is_some() {
            headers.insert(
                CONTENT_TYPE,
                HeaderValue::from_static("application/json;charset=utf8"),
            );
        }
        match cred {
            Credential::Anonymous => {}
            Credential::Signed(signer) => headers.extend(
                signer
                    .sign(req.method.as_str(), &req.url, &body, jiff::Timestamp::now())
                    .map_err(not_sent)?,
            ),
            Credential::Token(token) => {
                let (name, value) = token_header(token).map_err(not_sent)?;
                headers.insert(name, value);
            }
        }
        let response = self
            .http
            .request(req.method.clone(), req.url.clone())
            .headers(headers)
            .timeout(self.cfg.request_timeout)
            .body(body)
            .send()
            .await
            .map_err(|e| Failed {
                sent: !(e.is_connect() || e.is_builder()),
                error: self.http_error(req, &e),
                retry_after: None,
            })?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await.map_err(|e| Failed {
            error: self.http_error(req, &e),
            sent: true,
            retry_after: None,
        })?;
        tracing::trace!(
            service = req.service,
            operation = req.operation,
            status = status.as_u16(),
            request_id = headers.get("x-request-id").and_then(|v| v.to_str().ok()),
            "cloud answered"
        );
        Ok(Reply {
            status,
            headers,
            body,
        })
    }

    fn http_error(&self, req: &Request, e: &reqwest::Error) -> Error {
        if e.is_timeout() {
            return Error::Timeout {
                service: req.service,
                operation: req.operation,
                timeout: self.cfg.request_timeout,
            };
        }
        if e.is_builder() {
            return Error::Config(format!("{} {}: {}", req.service, req.operation, chain(e)));
        }
        Error::Network {
            service: req.service,
            operation: req.operation,
            message: chain(e),
        }
    }
}

/// The error and its causes (reqwest's own text hides the cause, e.g. "connection refused").
fn chain(e: &reqwest::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let text = s.to_string();
        if parts.last() != Some(&text) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

/// Longest `X-Request-Id` kept (real ones are 32 hex digits).
const MAX_REQUEST_ID_LEN: usize = 64;

/// A success reply decoded by `decode`, unless its body is neither empty (204, lists) nor JSON:
/// such an answer did not come from the cloud API, and its text is never quoted.
fn decode_json<T>(
    req: &Request,
    reply: &Reply,
    decode: impl Fn(&Reply) -> Result<T, Error>,
) -> Result<T, Error> {
    if !is_empty_body(&reply.body) && !is_json(&reply.body) {
        return Err(Error::Decode {
            service: req.service,
            operation: req.operation,
            message: format!(
                "HTTP {}, {}",
                reply.status.as_u16(),
                describe_body(reply.header("content-type"), &reply.body)
            ),
        });
    }
    decode(reply)
}

/// An error status turned into `Error::Api` with the cloud's code, message and request id. A body
/// that is not JSON is described (type and length), never quoted.
pub(crate) fn api_error(req: &Request, reply: &Reply) -> Error {
    let (code, mut message) = parse_error_body(&reply.body);
    if message.is_empty() && !is_empty_body(&reply.body) && !is_json(&reply.body) {
        message = describe_body(reply.header("content-type"), &reply.body);
    }
    if message.is_empty() {
        message = reply
            .status
            .canonical_reason()
            .unwrap_or("no message")
            .to_string();
    }
    Error::Api {
        service: req.service,
        operation: req.operation,
        status: reply.status.as_u16(),
        code,
        message,
        request_id: reply
            .header("x-request-id")
            .map(|id| truncate(id, MAX_REQUEST_ID_LEN)),
    }
}
