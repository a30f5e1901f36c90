//! Cloud errors: what went wrong in a call, what the caller should do about it, and the reason
//! events and metrics name it by. Classifying codes is `classify.rs`, reading error bodies
//! `error_body.rs`.

use std::time::Duration;

pub use super::classify::{classify, classify_call};
pub use super::error_body::parse_error_body;
pub(crate) use super::error_body::truncate;

/// What the caller should do about an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// Transient (5xx, network, timeouts): retry with backoff.
    Retryable,
    /// Rate limited (429, `APIGW.0308`, `DBS.280443`): retry after a few seconds.
    Throttled,
    /// Another operation runs on the instance: retry later, never a failure.
    Busy,
    /// The object (backup, job, instance record) does not exist.
    NotFound,
    /// Retrying cannot help (quota, single-node DCS, invalid name, ...).
    Terminal,
    /// Credentials rejected: stop and say so; never retried in a tight loop (the key gets locked).
    Auth,
}

impl ErrorClass {
    /// Whether the transport may retry the call by itself.
    pub fn is_transient(self) -> bool {
        matches!(self, Self::Retryable | Self::Throttled)
    }

    /// Stable CamelCase label for conditions, events and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Retryable => "Retryable",
            Self::Throttled => "Throttled",
            Self::Busy => "InstanceBusy",
            Self::NotFound => "NotFound",
            Self::Terminal => "Terminal",
            Self::Auth => "Auth",
        }
    }
}

/// An error from a cloud call. Messages never contain credentials, tokens or signatures.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The cloud answered with an error status.
    #[error("{service} {operation} failed: HTTP {status}{}: {message}{}", code_suffix(.code), request_id_suffix(.request_id))]
    Api {
        service: &'static str,
        operation: &'static str,
        status: u16,
        /// The cloud's `error_code` (empty when the body had none).
        code: String,
        message: String,
        request_id: Option<String>,
    },
    /// Connection refused/reset, DNS, TLS, or a body cut off mid-read.
    #[error("{service} {operation}: network error: {message}")]
    Network {
        service: &'static str,
        operation: &'static str,
        message: String,
    },
    /// No answer within the per-request timeout.
    #[error("{service} {operation}: no answer within {timeout:?}")]
    Timeout {
        service: &'static str,
        operation: &'static str,
        timeout: Duration,
    },
    /// A success status with a body that does not match the documented shape.
    #[error("{service} {operation}: unexpected response: {message}")]
    Decode {
        service: &'static str,
        operation: &'static str,
        message: String,
    },
    /// Credentials missing or rejected before any service call (IAM token, project lookup).
    #[error("authentication failed: {0}")]
    Auth(String),
    /// The account cannot be used as configured (bad endpoint, unknown region, ...).
    #[error("invalid cloud configuration: {0}")]
    Config(String),
    /// Not sent: the account's client-side rate limit (`--cloud-rate-per-second`) has no slot
    /// for `retry_in`, longer than a call may wait. The resource requeues instead.
    // The wait stays out of the message: status carries the message, and a text that changes on
    // every try would rewrite status (and so trigger a reconcile) each time.
    #[error(
        "{service} {operation}: not sent: the account's request rate (--cloud-rate-per-second) is used up"
    )]
    RateLimited {
        service: &'static str,
        operation: &'static str,
        retry_in: Duration,
    },
    /// The request URL's host is not allowed (`--allowed-endpoint-hosts`); nothing was sent.
    #[error("{service} endpoint {host} refused: {why}")]
    EndpointRefused {
        service: &'static str,
        host: String,
        why: String,
    },
}

/// ` <code>`, or nothing when the cloud gave no code (e.g. a page that is not JSON).
pub(crate) fn code_suffix(code: &str) -> String {
    if code.is_empty() {
        String::new()
    } else {
        format!(" {code}")
    }
}

fn request_id_suffix(id: &Option<String>) -> String {
    id.as_deref()
        .map(|id| format!(" (request id {id})"))
        .unwrap_or_default()
}

impl Error {
    /// The class that decides retry behaviour.
    pub fn class(&self) -> ErrorClass {
        match self {
            Self::Api {
                service,
                operation,
                status,
                code,
                ..
            } => classify_call(service, operation, *status, code),
            Self::Network { .. } | Self::Timeout { .. } => ErrorClass::Retryable,
            Self::Decode { .. } => ErrorClass::Retryable,
            Self::Auth(_) => ErrorClass::Auth,
            // The account in the Secret is unusable (region without a project, bad endpoint): the
            // user fixes the Secret, so resources wait as with rejected credentials instead of failing.
            // A refused endpoint is fixed the same way (or by widening the operator's allow-list).
            Self::Config(_) | Self::EndpointRefused { .. } => ErrorClass::Auth,
            Self::RateLimited { .. } => ErrorClass::Throttled,
        }
    }

    /// How long to wait before trying again, when the error says (client-side rate limit).
    pub fn retry_in(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_in, .. } => Some(*retry_in),
            _ => None,
        }
    }

    /// The cloud error code, when the cloud gave one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Api { code, .. } if !code.is_empty() => Some(code),
            _ => None,
        }
    }

    /// The error without its request id: what status shows. A request id is new on every attempt,
    /// so a status that carried it would change (and be written, and trigger a reconcile) on every
    /// retry; it goes to events and logs instead ([`Error::request_id`]).
    pub fn summary(&self) -> String {
        match self {
            Self::Api {
                service,
                operation,
                status,
                code,
                message,
                ..
            } => format!(
                "{service} {operation} failed: HTTP {status}{}: {message}",
                code_suffix(code)
            ),
            other => other.to_string(),
        }
    }

    /// The `X-Request-Id` of the failed call, for support tickets.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Self::Api { request_id, .. } => request_id.as_deref(),
            _ => None,
        }
    }

    pub fn is_not_found(&self) -> bool {
        self.class() == ErrorClass::NotFound
    }

    /// Short stable label for metrics (`outcome`) and events.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Api { .. } => self.class().as_str(),
            Self::Network { .. } => "Network",
            Self::Timeout { .. } => "Timeout",
            Self::Decode { .. } => "BadResponse",
            Self::Auth(_) => "Auth",
            Self::Config(_) => "Config",
            Self::EndpointRefused { .. } => "EndpointRefused",
            Self::RateLimited { .. } => "RateLimited",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_class_and_message_carry_no_secret_and_request_id() {
        let e = Error::Api {
            service: "dcs",
            operation: "create_backup",
            status: 400,
            code: "DCS.4096".into(),
            message: "instance is backing up".into(),
            request_id: Some("req-1".into()),
        };
        assert_eq!(e.class(), ErrorClass::Busy);
        assert_eq!(e.reason(), "InstanceBusy");
        assert_eq!(e.request_id(), Some("req-1"));
        assert_eq!(
            e.to_string(),
            "dcs create_backup failed: HTTP 400 DCS.4096: instance is backing up (request id req-1)"
        );
        assert_eq!(
            e.summary(),
            "dcs create_backup failed: HTTP 400 DCS.4096: instance is backing up",
            "the summary is the message without the request id"
        );
        let n = Error::Network {
            service: "dds",
            operation: "get_job",
            message: "connection reset".into(),
        };
        assert!(n.class().is_transient());
    }
}
