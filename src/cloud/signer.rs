//! AK/SK request signing (`SDK-HMAC-SHA256`) exactly as the official Huawei Cloud SDKs do it.
//!
//! The same canonicalisation is used by the client to sign and by the simulator to verify, so a
//! signature the client makes is checked by an independent rebuild of the canonical request from
//! what actually arrived on the wire.

use hmac::{Hmac, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use sha2::{Digest, Sha256};

/// The algorithm name that starts the `Authorization` header.
pub const ALGORITHM: &str = "SDK-HMAC-SHA256";
/// The request-time header; part of every signature.
pub const DATE_HEADER: &str = "x-sdk-date";
/// Lets a caller sign a payload hash it computed itself (the SDKs use `UNSIGNED-PAYLOAD`).
pub const CONTENT_SHA256_HEADER: &str = "x-sdk-content-sha256";
/// `strftime` layout of `X-Sdk-Date`.
pub const DATE_FORMAT: &str = "%Y%m%dT%H%M%SZ";

/// RFC 3986 unreserved characters stay as they are; everything else is escaped with upper-case hex.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

type HmacSha256 = Hmac<Sha256>;

/// Hex SHA-256 of the exact body bytes (empty body gives the hash of nothing).
pub fn payload_hash(body: &[u8]) -> String {
    hex::encode(Sha256::digest(body))
}

fn escape(s: &str) -> String {
    utf8_percent_encode(s, UNRESERVED).to_string()
}

/// Each path segment is un-escaped and then escaped again, and the result always ends in `/`
/// (the trailing slash is for signing only; the URL sent keeps its own form).
pub fn canonical_uri(path: &str) -> String {
    let mut out = path
        .split('/')
        .map(|seg| escape(&percent_decode_str(seg).decode_utf8_lossy()))
        .collect::<Vec<_>>()
        .join("/");
    if !out.starts_with('/') {
        out.insert(0, '/');
    }
    if !out.ends_with('/') {
        out.push('/');
    }
    out
}

/// Query pairs sorted by key and then value (byte order), both escaped with the path's escape set.
/// `raw` is the query string as sent (still percent-encoded, `+` meaning a space as form encoding does).
pub fn canonical_query(raw: Option<&str>) -> String {
    let Some(raw) = raw.filter(|q| !q.is_empty()) else {
        return String::new();
    };
    let mut pairs: Vec<(String, String)> = url::form_urlencoded::parse(raw.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", escape(k), escape(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The parts of a request that the signature covers.
#[derive(Debug, Clone)]
pub struct SigningInput<'a> {
    pub method: &'a str,
    /// Path as sent, e.g. `/v2/pid/instances/x/backups`.
    pub path: &'a str,
    /// Raw query string without the `?`, if any.
    pub query: Option<&'a str>,
    /// `(name, value)` pairs; names are compared case-insensitively.
    pub headers: &'a [(String, String)],
    /// Lower-case names of the headers to sign, in any order.
    pub signed_headers: &'a [String],
    /// Hex payload hash (see [`payload_hash`]) or the value of `X-Sdk-Content-Sha256`.
    pub payload_hash: &'a str,
}

fn header_value<'h>(headers: &'h [(String, String)], name: &str) -> Option<&'h str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Sorted, lower-cased, `;`-joined names: the `SignedHeaders` value.
pub fn signed_headers_value(names: &[String]) -> String {
    let mut names: Vec<String> = names.iter().map(|n| n.to_ascii_lowercase()).collect();
    names.sort();
    names.dedup();
    names.join(";")
}

/// The canonical request: method, URI, query, headers, signed header list and payload hash.
pub fn canonical_request(input: &SigningInput<'_>) -> String {
    let signed = signed_headers_value(input.signed_headers);
    let mut headers = String::new();
    for name in signed.split(';').filter(|n| !n.is_empty()) {
        let value = header_value(input.headers, name).unwrap_or("").trim();
        headers.push_str(name);
        headers.push(':');
        headers.push_str(value);
        headers.push('\n');
    }
    format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        input.method.to_ascii_uppercase(),
        canonical_uri(input.path),
        canonical_query(input.query),
        headers,
        signed,
        input.payload_hash
    )
}

/// `SDK-HMAC-SHA256\n<date>\n<hex sha256 of canonical request>`.
pub fn string_to_sign(canonical_request: &str, sdk_date: &str) -> String {
    format!(
        "{ALGORITHM}\n{sdk_date}\n{}",
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    )
}

fn mac(secret_key: &str) -> HmacSha256 {
    // HMAC accepts keys of any length, so this cannot fail; fall back to an empty key defensively.
    HmacSha256::new_from_slice(secret_key.as_bytes())
        .unwrap_or_else(|_| HmacSha256::new_from_slice(&[0u8; 1]).expect("1-byte HMAC key"))
}

/// Hex HMAC-SHA256 of the string to sign with the secret key (no key derivation, unlike SigV4).
pub fn signature(secret_key: &str, string_to_sign: &str) -> String {
    let mut m = mac(secret_key);
    m.update(string_to_sign.as_bytes());
    hex::encode(m.finalize().into_bytes())
}

/// Signs `input` and returns the full `Authorization` header value.
pub fn authorization(access_key: &str, secret_key: &str, input: &SigningInput<'_>) -> String {
    let date = header_value(input.headers, DATE_HEADER)
        .unwrap_or("")
        .trim();
    let sts = string_to_sign(&canonical_request(input), date);
    format!(
        "{ALGORITHM} Access={access_key}, SignedHeaders={}, Signature={}",
        signed_headers_value(input.signed_headers),
        signature(secret_key, &sts)
    )
}

/// The three fields of a parsed `Authorization` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedAuthorization {
    pub access_key: String,
    pub signed_headers: Vec<String>,
    pub signature: String,
}

/// Parses `SDK-HMAC-SHA256 Access=AK, SignedHeaders=a;b, Signature=hex`; `None` when malformed.
pub fn parse_authorization(value: &str) -> Option<ParsedAuthorization> {
    let rest = value.strip_prefix(ALGORITHM)?.trim_start();
    let (mut ak, mut sh, mut sig) = (None, None, None);
    for part in rest.split(',') {
        let (k, v) = part.trim().split_once('=')?;
        match k {
            "Access" => ak = Some(v.to_string()),
            "SignedHeaders" => sh = Some(v.split(';').map(str::to_string).collect()),
            "Signature" => sig = Some(v.to_string()),
            _ => return None,
        }
    }
    Some(ParsedAuthorization {
        access_key: ak?,
        signed_headers: sh?,
        signature: sig?,
    })
}

/// Constant-time check of a received signature against the one `secret_key` gives.
pub fn verify(secret_key: &str, input: &SigningInput<'_>, received_hex: &str) -> bool {
    let date = header_value(input.headers, DATE_HEADER)
        .unwrap_or("")
        .trim();
    let sts = string_to_sign(&canonical_request(input), date);
    let Ok(received) = hex::decode(received_hex) else {
        return false;
    };
    let mut m = mac(secret_key);
    m.update(sts.as_bytes());
    m.verify_slice(&received).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn names(s: &str) -> Vec<String> {
        s.split(';').map(str::to_string).collect()
    }

    fn sig(
        method: &str,
        path: &str,
        query: Option<&str>,
        headers: &[(&str, &str)],
        signed: &str,
        body: &[u8],
    ) -> String {
        let headers = h(headers);
        let signed = names(signed);
        let ph = payload_hash(body);
        let input = SigningInput {
            method,
            path,
            query,
            headers: &headers,
            signed_headers: &signed,
            payload_hash: &ph,
        };
        let date = header_value(&headers, DATE_HEADER).unwrap().trim();
        signature(
            "SecretKey",
            &string_to_sign(&canonical_request(&input), date),
        )
    }

    const HOST: &str = "service.endpoint.myhuaweicloud.com";

    #[test]
    fn python_sdk_vector_1_get() {
        let s = sig(
            "GET",
            "/resources",
            Some("size=1"),
            &[("Host", HOST), ("X-Sdk-Date", "20200608T023900Z")],
            "host;x-sdk-date",
            b"",
        );
        assert_eq!(
            s,
            "cfb4171acec81de07d50e53d57eb77edd537414d66ddb1d7d780f128e12cd842"
        );
    }

    #[test]
    fn python_sdk_vector_1_canonical_request_hash() {
        let headers = h(&[("Host", HOST), ("X-Sdk-Date", "20200608T023900Z")]);
        let signed = names("host;x-sdk-date");
        let ph = payload_hash(b"");
        let input = SigningInput {
            method: "GET",
            path: "/resources",
            query: Some("size=1"),
            headers: &headers,
            signed_headers: &signed,
            payload_hash: &ph,
        };
        let cr = canonical_request(&input);
        assert!(cr.starts_with("GET\n/resources/\nsize=1\nhost:service.endpoint.myhuaweicloud.com\nx-sdk-date:20200608T023900Z\n\nhost;x-sdk-date\ne3b0c442"));
        assert_eq!(
            hex::encode(Sha256::digest(cr.as_bytes())),
            "de94dd1e1ccdb730b403ce35d7e14f7c7b04337f6def1c3a3a2ba936852b133f"
        );
    }

    #[test]
    fn python_sdk_vector_2_post_body() {
        let s = sig(
            "POST",
            "/resources",
            Some("size=1"),
            &[("Host", HOST), ("X-Sdk-Date", "20200608T023900Z")],
            "host;x-sdk-date",
            br#"{"name":"test","id":1}"#,
        );
        assert_eq!(
            s,
            "436b1ac0a1ae03705934bb70ef2f2e09f7bfed2117d731a38235053199323a1f"
        );
    }

    #[test]
    fn go_sdk_vector_3_get() {
        let s = sig(
            "GET",
            "/path",
            Some("limit=1"),
            &[("X-Sdk-Date", "20060102T150405Z")],
            "x-sdk-date",
            b"",
        );
        assert_eq!(
            s,
            "5a2ce64c865e0e6046321c6f3d5a77ba8413eeaf355c3166c03d58d02ac79624"
        );
    }

    #[test]
    fn go_sdk_vector_4_post_with_trailing_newline() {
        let s = sig(
            "POST",
            "/path",
            Some("key=value"),
            &[("X-Sdk-Date", "20060102T150405Z")],
            "x-sdk-date",
            b"{\"Name\":\"test\",\"Id\":1}\n",
        );
        assert_eq!(
            s,
            "cecc2af119b18ab70b4d094c0750f3b42c02f254903179a0fc2cc72fc9db4f59"
        );
    }

    #[test]
    fn query_sorting_and_escaping_matches_both_sdks() {
        let raw = "test=%E4%B8%80+%28%26%3D%3F%21%23%25.%2A%29&multi=3&multi=1&path=%2Ftmp%2F123&enable=true&limit=1&multi=2";
        assert_eq!(
            canonical_query(Some(raw)),
            "enable=true&limit=1&multi=1&multi=2&multi=3&path=%2Ftmp%2F123&test=%E4%B8%80%20%28%26%3D%3F%21%23%25.%2A%29"
        );
    }

    #[test]
    fn empty_query_is_empty_string() {
        assert_eq!(canonical_query(None), "");
        assert_eq!(canonical_query(Some("")), "");
    }

    #[test]
    fn canonical_uri_always_ends_in_slash_and_escapes_segments() {
        assert_eq!(canonical_uri(""), "/");
        assert_eq!(canonical_uri("/"), "/");
        assert_eq!(canonical_uri("/v2/p/instances"), "/v2/p/instances/");
        assert_eq!(canonical_uri("/v2/p/instances/"), "/v2/p/instances/");
        assert_eq!(canonical_uri("/a b/c%20d/~x"), "/a%20b/c%20d/~x/");
        assert_eq!(canonical_uri("/a*b"), "/a%2Ab/");
    }

    #[test]
    fn header_values_are_trimmed_and_names_case_insensitive() {
        let a = sig(
            "GET",
            "/x",
            None,
            &[("X-SDK-DATE", " 20060102T150405Z ")],
            "x-sdk-date",
            b"",
        );
        let b = sig(
            "GET",
            "/x",
            None,
            &[("x-sdk-date", "20060102T150405Z")],
            "X-Sdk-Date",
            b"",
        );
        assert_eq!(a, b);
    }

    #[test]
    fn authorization_roundtrips_through_parse_and_verify() {
        let headers = h(&[
            ("Host", "127.0.0.1:8080"),
            ("X-Sdk-Date", "20260101T000000Z"),
            ("X-Project-Id", "p1"),
        ]);
        let signed = names("host;x-sdk-date;x-project-id");
        let body = br#"{"remark":"x"}"#;
        let ph = payload_hash(body);
        let input = SigningInput {
            method: "POST",
            path: "/v2/p1/instances/i/backups",
            query: None,
            headers: &headers,
            signed_headers: &signed,
            payload_hash: &ph,
        };
        let auth = authorization("AK", "SK", &input);
        assert!(auth.starts_with(
            "SDK-HMAC-SHA256 Access=AK, SignedHeaders=host;x-project-id;x-sdk-date, Signature="
        ));
        let parsed = parse_authorization(&auth).expect("parses");
        assert_eq!(parsed.access_key, "AK");
        let input2 = SigningInput {
            signed_headers: &parsed.signed_headers,
            ..input.clone()
        };
        assert!(verify("SK", &input2, &parsed.signature));
        assert!(!verify("other", &input2, &parsed.signature));
        // One tampered byte of the body changes the payload hash and breaks the signature.
        let ph2 = payload_hash(br#"{"remark":"y"}"#);
        let tampered = SigningInput {
            payload_hash: &ph2,
            ..input2.clone()
        };
        assert!(!verify("SK", &tampered, &parsed.signature));
        assert!(!verify("SK", &input2, "zz"));
    }

    #[test]
    fn parse_authorization_rejects_garbage() {
        assert_eq!(parse_authorization("Bearer x"), None);
        assert_eq!(
            parse_authorization("SDK-HMAC-SHA256 Access=a, Signature=b"),
            None
        );
        assert_eq!(
            parse_authorization("SDK-HMAC-SHA256 Access=a SignedHeaders=b, Signature=c"),
            None
        );
    }
}
