//! When the transport may try a call again, and how long it waits first.

use std::time::Duration;

use http::HeaderMap;
use http::header::RETRY_AFTER;
use rand::Rng;

use super::error::{Error, ErrorClass};

/// Whether a failed attempt may be repeated by the transport itself.
///
/// Only transient classes are retried (never Auth: the cloud locks a key after a few bad
/// signatures; never Busy/NotFound/Terminal: the controller decides). A create call is not
/// idempotent: after a 5xx, a timeout or a cut connection the cloud may have created the object,
/// so it is repeated only when the request provably was not acted on (throttled by the gateway,
/// or never sent). The controller then finds a possibly created object by its marker.
pub(crate) fn may_retry(error: &Error, idempotent: bool, sent: bool) -> bool {
    let class = error.class();
    if !class.is_transient() || matches!(error, Error::Decode { .. }) {
        return false;
    }
    idempotent || !sent || class == ErrorClass::Throttled
}

/// Jittered exponential backoff after the `attempt`-th failure (1-based): a random point in the
/// upper half of `base * 2^(attempt-1)`, capped at `max`.
pub(crate) fn backoff(base: Duration, max: Duration, attempt: u32) -> Duration {
    let exp = base
        .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1)))
        .min(max);
    let half = exp / 2;
    let jitter_ms = u64::try_from(half.as_millis()).unwrap_or(u64::MAX);
    half + Duration::from_millis(rand::rng().random_range(0..=jitter_ms))
}

/// The wait before the next attempt, or `None` when the server asks for a longer wait than the
/// transport is willing to spend inside one call (the caller then requeues instead).
pub(crate) fn next_delay(
    base: Duration,
    max: Duration,
    attempt: u32,
    retry_after: Option<Duration>,
) -> Option<Duration> {
    let delay = backoff(base, max, attempt);
    match retry_after {
        Some(asked) if asked > max => None,
        Some(asked) => Some(delay.max(asked)),
        None => Some(delay),
    }
}

/// `Retry-After` as delta-seconds or an HTTP date (RFC 7231), relative to `now`.
pub(crate) fn retry_after(headers: &HeaderMap, now: jiff::Timestamp) -> Option<Duration> {
    let raw = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = raw.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = jiff::fmt::rfc2822::DateTimeParser::new()
        .parse_timestamp(raw)
        .ok()?;
    let secs = at.as_second().saturating_sub(now.as_second());
    Some(Duration::from_secs(u64::try_from(secs).unwrap_or(0)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn api(status: u16, code: &str) -> Error {
        Error::Api {
            service: "dcs",
            operation: "op",
            status,
            code: code.into(),
            message: String::new(),
            request_id: None,
        }
    }

    #[test]
    fn only_transient_errors_are_retried() {
        assert!(may_retry(&api(500, ""), true, true));
        assert!(may_retry(&api(429, "APIGW.0308"), true, true));
        assert!(!may_retry(&api(401, "APIGW.0301"), true, true));
        assert!(!may_retry(&api(400, "DCS.4096"), true, true));
        assert!(!may_retry(&api(404, ""), true, true));
        assert!(!may_retry(&api(400, "DCS.4086"), true, true));
        assert!(!may_retry(&Error::Auth("x".into()), true, false));
        let decode = Error::Decode {
            service: "dds",
            operation: "op",
            message: "x".into(),
        };
        assert!(!may_retry(&decode, true, true));
    }

    #[test]
    fn creates_are_retried_only_when_not_acted_on() {
        let net = Error::Network {
            service: "dcs",
            operation: "create_backup",
            message: "reset".into(),
        };
        assert!(!may_retry(&net, false, true), "sent, maybe created");
        assert!(may_retry(&net, false, false), "never connected");
        assert!(!may_retry(&api(500, ""), false, true));
        assert!(may_retry(&api(429, ""), false, true), "gateway refused it");
    }

    #[test]
    fn backoff_grows_is_jittered_and_capped() {
        let base = Duration::from_millis(100);
        let max = Duration::from_secs(1);
        for _ in 0..50 {
            let d1 = backoff(base, max, 1);
            assert!(d1 >= Duration::from_millis(50) && d1 <= base, "{d1:?}");
            let d3 = backoff(base, max, 3);
            assert!(d3 >= Duration::from_millis(200) && d3 <= Duration::from_millis(400));
            let d30 = backoff(base, max, 30);
            assert!(d30 >= max / 2 && d30 <= max, "{d30:?}");
        }
        let spread: std::collections::HashSet<_> = (0..20).map(|_| backoff(base, max, 4)).collect();
        assert!(spread.len() > 1, "jitter varies the delay");
    }

    #[test]
    fn retry_after_is_honoured_up_to_the_cap() {
        let base = Duration::from_millis(10);
        let max = Duration::from_secs(10);
        assert_eq!(
            next_delay(base, max, 1, Some(Duration::from_secs(3))),
            Some(Duration::from_secs(3))
        );
        assert_eq!(
            next_delay(base, max, 1, Some(Duration::from_secs(60))),
            None
        );
        assert!(next_delay(base, max, 1, None).unwrap() <= base);
    }

    #[test]
    fn parses_both_retry_after_forms() {
        let now: jiff::Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let mut h = HeaderMap::new();
        assert_eq!(retry_after(&h, now), None);
        h.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(7)));
        h.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Thu, 01 Jan 2026 00:00:05 GMT"),
        );
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(5)));
        h.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Wed, 31 Dec 2025 00:00:05 GMT"),
        );
        assert_eq!(retry_after(&h, now), Some(Duration::ZERO));
        h.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h, now), None);
    }
}
