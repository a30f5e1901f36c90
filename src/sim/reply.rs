//! Response helpers shared by the simulated services: JSON bodies, error shapes, time formats.

use std::collections::HashMap;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde_json::{Value, json};

/// DCS record times, e.g. `2026-01-02T03:04:05.678Z`.
pub(crate) const DCS_TIME: &str = "%Y-%m-%dT%H:%M:%S.%3fZ";
/// DDS backup times, e.g. `2026-01-02 03:04:05`.
pub(crate) const DDS_TIME: &str = "%Y-%m-%d %H:%M:%S";
/// DDS/TaurusDB job times and TaurusDB backup times, e.g. `2026-01-02T03:04:05+0000`.
pub(crate) const OFFSET_TIME: &str = "%Y-%m-%dT%H:%M:%S%z";
/// IAM `expires_at`, e.g. `2026-01-02T03:04:05.000000Z`.
pub(crate) const IAM_TIME: &str = "%Y-%m-%dT%H:%M:%S.%6fZ";

/// A timestamp in UTC with one of the layouts above.
pub(crate) fn fmt_time(ts: Timestamp, layout: &str) -> String {
    ts.to_zoned(jiff::tz::TimeZone::UTC)
        .strftime(layout)
        .to_string()
}

/// A JSON body with the given status.
pub(crate) fn json_response(status: StatusCode, body: Value) -> Response {
    let mut resp = (status, body.to_string()).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

/// The common `{"error_code","error_msg"}` error body.
pub(crate) fn api_error(status: StatusCode, code: &str, msg: &str) -> Response {
    json_response(status, json!({ "error_code": code, "error_msg": msg }))
}

/// The API gateway's answer to a route it does not know.
pub(crate) fn no_such_api() -> Response {
    api_error(
        StatusCode::NOT_FOUND,
        "APIGW.0101",
        "The API does not exist or has not been published in the environment",
    )
}

/// Parses an optional integer query parameter; `Err` names the parameter for the error message.
pub(crate) fn query_int(
    q: &HashMap<String, String>,
    name: &str,
    default: i64,
    min: i64,
    max: i64,
) -> Result<i64, String> {
    let Some(raw) = q.get(name) else {
        return Ok(default);
    };
    match raw.trim().parse::<i64>() {
        Ok(v) if (min..=max).contains(&v) => Ok(v),
        _ => Err(format!(
            "invalid {name}: must be an integer in {min}..={max}"
        )),
    }
}

/// Parses an optional JSON body: empty means `{}`; `Err` when it is not a JSON object.
pub(crate) fn json_object(body: &[u8]) -> Result<serde_json::Map<String, Value>, String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(serde_json::Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err("the request body must be a JSON object".into()),
        Err(e) => Err(format!("the request body is not valid JSON: {e}")),
    }
}

/// A string field of a JSON object: absent or null gives `None`; another type is an error.
pub(crate) fn str_field<'a>(
    obj: &'a serde_json::Map<String, Value>,
    name: &str,
) -> Result<Option<&'a str>, String> {
    match obj.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(format!("{name} must be a string")),
    }
}

/// One page of `items` for `offset` (0-based) and `limit`.
pub(crate) fn page<T: Clone>(items: &[T], offset: i64, limit: i64) -> Vec<T> {
    let offset = usize::try_from(offset).unwrap_or(usize::MAX);
    let limit = usize::try_from(limit).unwrap_or(0);
    items.iter().skip(offset).take(limit).cloned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_layouts_match_the_documented_examples() {
        let ts: Timestamp = "2026-01-02T03:04:05.678Z".parse().unwrap();
        assert_eq!(fmt_time(ts, DCS_TIME), "2026-01-02T03:04:05.678Z");
        assert_eq!(fmt_time(ts, DDS_TIME), "2026-01-02 03:04:05");
        assert_eq!(fmt_time(ts, OFFSET_TIME), "2026-01-02T03:04:05+0000");
        assert_eq!(fmt_time(ts, IAM_TIME), "2026-01-02T03:04:05.678000Z");
    }

    #[test]
    fn query_ints_are_bounded() {
        let q: HashMap<String, String> = [("limit".to_string(), "1001".to_string())].into();
        assert!(query_int(&q, "limit", 10, 1, 1000).is_err());
        assert_eq!(query_int(&q, "offset", 0, 0, i64::MAX), Ok(0));
        let q: HashMap<String, String> = [("limit".to_string(), "7".to_string())].into();
        assert_eq!(query_int(&q, "limit", 10, 1, 1000), Ok(7));
    }

    #[test]
    fn bodies_are_lenient_about_emptiness_only() {
        assert!(json_object(b"").unwrap().is_empty());
        assert!(json_object(b"[]").is_err());
        assert!(json_object(b"{").is_err());
        let obj = json_object(br#"{"a":"x","b":1}"#).unwrap();
        assert_eq!(str_field(&obj, "a"), Ok(Some("x")));
        assert_eq!(str_field(&obj, "c"), Ok(None));
        assert!(str_field(&obj, "b").is_err());
        assert_eq!(page(&[1, 2, 3], 1, 5), vec![2, 3]);
        assert_eq!(page(&[1, 2, 3], 5, 5), Vec::<i32>::new());
    }
}
