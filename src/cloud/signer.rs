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
#[path = "signer_tests.rs"]
mod tests;
