//! Tests of request signing against the documented examples and the cases that break naive signers.

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
