//! Cloud errors: parsing of every documented error body shape and classification by `error_code`.
//!
//! Classification drives everything the controllers do with a failure (requeue, back off long, or
//! fail the resource), so it is keyed on the cloud's `error_code` first and the HTTP status second.

use std::time::Duration;

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

/// Codes that mean "another operation runs on this instance" (DCS, DDS, TaurusDB).
const BUSY_CODES: &[&str] = &[
    // DCS (TFHW operateErrorCode plus the documented likely-retryable ones)
    "DCS.4026",
    "DCS.4049",
    "DCS.4096",
    "DCS.4097",
    "DCS.4111",
    "DCS.4113",
    "DCS.4114",
    "DCS.4115",
    "DCS.4116",
    "DCS.4117",
    "DCS.4118",
    "DCS.4120",
    "DCS.4121",
    "DCS.4231",
    "DCS.4975",
    "DCS.4017",
    "DCS.4108",
    "DCS.4069",
    "CBC.99003651",
    // DCS v1.0 numeric equivalents of the backup/restore busy codes
    "111400096",
    "111400097",
    // DDS
    "DBS.200019",
    "DBS.201015",
    "DBS.201014",
    "DBS.201000",
    "DBS.200076",
    "DBS.200011",
    "DBS.200018",
    "DBS.200047",
    "DBS.201202",
    "DBS.200998",
    "DBS.00010009",
    "DBS.239037",
    "DBS.201319",
    // TaurusDB (409 conflicts)
    "DBS.201205",
    "DBS.212006",
    "DBS.05000084",
    "DBS.212033",
];

const THROTTLE_CODES: &[&str] = &["APIGW.0308", "APIG.0308", "DBS.280443"];

const AUTH_CODES: &[&str] = &[
    "APIGW.0301",
    "APIG.0301",
    "APIGW.0303",
    "APIG.0303",
    "DCS.1001",
    "DCS.1002",
    "DCS.1003",
    "DCS.1004",
];

const NOT_FOUND_CODES: &[&str] = &[
    // The gateway knows no such API ("does not exist or has not been published"): a path a cloud
    // does not offer (OTC lacks some Huawei Cloud APIs), never a credentials problem.
    "APIGW.0101",
    "APIG.0101",
    "DCS.3022",
    "DBS.201502",
    "DBS.201214",
    "DBS.201204",
    "DBS.200543",
    "DBS.201010",
    "DBS.201203",
    "DBS.280214",
];

const TERMINAL_CODES: &[&str] = &[
    "DCS.4086",
    "111400086",
    "DCS.4095",
    "DCS.4087",
    "DCS.4039",
    "DCS.4101",
    "DBS.201201",
    "DBS.280277",
    "DBS.280127",
    "DBS.201208",
];

/// Codes whose meaning depends on the call that got them: `(service, operation, code, class)`.
///
/// DCS answers a DELETE of a backup it no longer has (deleted in the console, rotated out by its
/// cap of 24 backups per instance) with 400 `DCS.4031` (seen against the real cloud, issue 8; the
/// Terraform provider treats it as gone too). The OTC error table defines `DCS.4031` as "start
/// time must be before server time", a list-filter error, so the code means "gone" only here.
/// v1.0 numbers it `111400031`.
const SCOPED_CODES: &[(&str, &str, &str, ErrorClass)] = &[
    ("dcs", "delete_backup", "DCS.4031", ErrorClass::NotFound),
    ("dcs", "delete_backup", "111400031", ErrorClass::NotFound),
    // DDS answers a restore "invalid request for the current state" while the instance is busy
    // with something else (restore-and-schedule.md A.4): wait, as for the other busy codes.
    ("dds", "create_restore", "DBS.280042", ErrorClass::Busy),
];

/// Classifies the error a `service` call named `operation` got: codes scoped to that call first,
/// then [`classify`].
pub fn classify_call(service: &str, operation: &str, status: u16, code: &str) -> ErrorClass {
    SCOPED_CODES
        .iter()
        .find(|(s, o, c, _)| *s == service && *o == operation && c.eq_ignore_ascii_case(code))
        .map(|(.., class)| *class)
        .unwrap_or_else(|| classify(status, code))
}

/// Classifies by `error_code` first, then by HTTP status.
pub fn classify(status: u16, code: &str) -> ErrorClass {
    let has = |set: &[&str]| set.iter().any(|c| c.eq_ignore_ascii_case(code));
    if has(THROTTLE_CODES) {
        ErrorClass::Throttled
    } else if has(AUTH_CODES) {
        ErrorClass::Auth
    } else if has(BUSY_CODES) {
        ErrorClass::Busy
    } else if has(NOT_FOUND_CODES) {
        ErrorClass::NotFound
    } else if has(TERMINAL_CODES) {
        ErrorClass::Terminal
    } else {
        match status {
            429 => ErrorClass::Throttled,
            // A 401 always means the credentials (IAM answers with numeric codes such as 401).
            401 => ErrorClass::Auth,
            403 if code.starts_with("APIG") || code.is_empty() => ErrorClass::Auth,
            404 => ErrorClass::NotFound,
            // An undocumented 409 is still a conflict with another operation.
            409 => ErrorClass::Busy,
            408 | 500..=599 => ErrorClass::Retryable,
            _ => ErrorClass::Terminal,
        }
    }
}

/// `(error_code, error_msg)` from any documented error body shape; empty strings when absent.
///
/// Tries `error_code`/`error_msg`, `errorCode`/`errorMsg`, `code`/`message`, and recurses into a
/// nested object (`{"error": {...}}`), as the Python SDK's exception handler does. Codes may be
/// strings, numbers, or `{}` (a documented quirk), which counts as absent. A body that is not
/// JSON (an HTML error page, a proxy's text) gives nothing: whatever answered, its text is never
/// quoted (the caller describes it with `wire::describe_body`).
pub fn parse_error_body(body: &[u8]) -> (String, String) {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
        return (String::new(), String::new());
    };
    find_error(&value, 0).unwrap_or_default()
}

fn scalar(v: Option<&serde_json::Value>) -> Option<String> {
    match v? {
        serde_json::Value::String(s) if !s.is_empty() => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn find_error(v: &serde_json::Value, depth: usize) -> Option<(String, String)> {
    let obj = v.as_object()?;
    for (c, m) in [
        ("error_code", "error_msg"),
        ("errorCode", "errorMsg"),
        ("code", "message"),
    ] {
        let code = scalar(obj.get(c));
        let msg = scalar(obj.get(m)).or_else(|| scalar(obj.get("error_description")));
        if code.is_some() || msg.is_some() {
            let mut msg = msg.unwrap_or_default();
            if let Some(ext) = scalar(obj.get("error_ext_msg")) {
                msg = format!("{msg} ({ext})");
            }
            let code = truncate(&code.unwrap_or_default(), MAX_CODE_LEN);
            return Some((code, truncate(&msg, 512)));
        }
    }
    if depth < 3 {
        for nested in obj.values().filter(|v| v.is_object()) {
            if let Some(found) = find_error(nested, depth + 1) {
                return Some(found);
            }
        }
    }
    None
}

/// Longest error code kept; documented codes are about a dozen characters (`DCS.4096`).
const MAX_CODE_LEN: usize = 64;

/// `s` cut to at most `max` bytes (on a character boundary) with `...` appended when cut: text
/// from the cloud ends up in logs, status and events, and a hostile answer may be megabytes long.
pub(crate) fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &s[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_documented_shape() {
        let cases: &[(&str, &str, &str)] = &[
            (
                r#"{"error_code":"DCS.4096","error_msg":"backing up"}"#,
                "DCS.4096",
                "backing up",
            ),
            (
                r#"{"errorCode":"APIGW.0308","errorMsg":"throttled"}"#,
                "APIGW.0308",
                "throttled",
            ),
            (
                r#"{"code":"DBS.200019","message":"busy"}"#,
                "DBS.200019",
                "busy",
            ),
            (
                r#"{"error":{"code":"111400086","message":"only master standby instance is support this action"}}"#,
                "111400086",
                "only master standby instance is support this action",
            ),
            (
                r#"{"error":{"code":111400086,"message":"numeric"}}"#,
                "111400086",
                "numeric",
            ),
            (
                r#"{"error_code":"DCS.4039","error_msg":"quota","error_ext_msg":"max 10"}"#,
                "DCS.4039",
                "quota (max 10)",
            ),
        ];
        for (body, code, msg) in cases {
            assert_eq!(
                parse_error_body(body.as_bytes()),
                (code.to_string(), msg.to_string()),
                "{body}"
            );
        }
    }

    #[test]
    fn lenient_on_quirks() {
        assert_eq!(
            parse_error_body(br#"{"error_code":{},"error_msg":"x"}"#),
            (String::new(), "x".into())
        );
        assert_eq!(parse_error_body(b""), (String::new(), String::new()));
        assert_eq!(
            parse_error_body(b"<html>bad gateway</html>"),
            (String::new(), String::new()),
            "a page is never quoted"
        );
        assert_eq!(parse_error_body(b"[1,2]"), (String::new(), String::new()));
        let huge = "x".repeat(10_000);
        assert!(parse_error_body(huge.as_bytes()).1.len() < 600);
    }

    #[test]
    fn classification_by_code_beats_status() {
        assert_eq!(classify(400, "DCS.4096"), ErrorClass::Busy);
        assert_eq!(classify(400, "DCS.4097"), ErrorClass::Busy);
        assert_eq!(classify(403, "DBS.200019"), ErrorClass::Busy);
        assert_eq!(classify(409, "DBS.201205"), ErrorClass::Busy);
        assert_eq!(classify(429, "APIGW.0308"), ErrorClass::Throttled);
        assert_eq!(classify(429, "DBS.280443"), ErrorClass::Throttled);
        assert_eq!(classify(400, "APIGW.0308"), ErrorClass::Throttled);
        assert_eq!(classify(401, "APIGW.0301"), ErrorClass::Auth);
        assert_eq!(classify(400, "DCS.4086"), ErrorClass::Terminal);
        assert_eq!(classify(400, "111400086"), ErrorClass::Terminal);
        assert_eq!(classify(400, "DCS.4039"), ErrorClass::Terminal);
        assert_eq!(classify(404, "DCS.3022"), ErrorClass::NotFound);
        assert_eq!(classify(400, "DBS.201502"), ErrorClass::NotFound);
        assert_eq!(classify(400, "DBS.200543"), ErrorClass::NotFound);
        assert_eq!(classify(400, "DBS.201201"), ErrorClass::Terminal);
        assert_eq!(classify(400, "DBS.280277"), ErrorClass::Terminal);
    }

    #[test]
    fn an_api_the_gateway_does_not_know_is_not_a_credentials_error() {
        // OTC answers the Huawei-only APIs (TaurusDB in-place restore, the DDS job list) this way;
        // as `Auth` it would open the account's breaker and hold back every resource using it.
        assert_eq!(classify(404, "APIGW.0101"), ErrorClass::NotFound);
        assert_eq!(classify(404, "APIG.0101"), ErrorClass::NotFound);
        assert_eq!(classify(401, "APIGW.0301"), ErrorClass::Auth);
    }

    #[test]
    fn dcs_4031_means_gone_only_as_the_answer_to_a_delete() {
        let class = |svc, op, code| classify_call(svc, op, 400, code);
        assert_eq!(
            class("dcs", "delete_backup", "DCS.4031"),
            ErrorClass::NotFound
        );
        assert_eq!(
            class("dcs", "delete_backup", "111400031"),
            ErrorClass::NotFound
        );
        assert_eq!(class("dcs", "delete_backup", "DCS.4096"), ErrorClass::Busy);
        for (svc, op) in [
            ("dcs", "list_backups"),
            ("dcs", "create_restore"),
            ("dds", "delete_backup"),
        ] {
            assert_eq!(
                class(svc, op, "DCS.4031"),
                ErrorClass::Terminal,
                "{svc} {op}"
            );
        }
    }

    #[test]
    fn classification_falls_back_to_status() {
        assert_eq!(classify(429, ""), ErrorClass::Throttled);
        assert_eq!(classify(500, ""), ErrorClass::Retryable);
        assert_eq!(classify(503, "SYS.0001"), ErrorClass::Retryable);
        assert_eq!(classify(404, ""), ErrorClass::NotFound);
        assert_eq!(classify(401, ""), ErrorClass::Auth);
        assert_eq!(classify(401, "401"), ErrorClass::Auth);
        assert_eq!(classify(403, ""), ErrorClass::Auth);
        assert_eq!(classify(403, "DBS.200019"), ErrorClass::Busy);
        assert_eq!(classify(403, "IAM.0002"), ErrorClass::Terminal);
        assert_eq!(classify(409, "X.1"), ErrorClass::Busy);
        assert_eq!(classify(400, "DCS.9999"), ErrorClass::Terminal);
    }

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
