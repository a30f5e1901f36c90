//! The `(error_code, error_msg)` of every documented error body shape, and the bound on any cloud
//! text that reaches logs, status and events.

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
}
