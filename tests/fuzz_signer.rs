//! Property tests of the AK/SK signer's canonicalisation and signatures: no input panics it,
//! canonical forms are order-independent and idempotent, a signature verifies, and any one-byte
//! change to the body, path or query makes it fail.

use hwcloud_backup_operator::cloud::signer::{
    DATE_HEADER, SigningInput, authorization, canonical_query, canonical_request, canonical_uri,
    parse_authorization, payload_hash, verify,
};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use proptest::prelude::*;

const DATE: &str = "20260102T030405Z";

/// Path characters: printable ASCII without `%`, so that no byte starts an escape and every
/// one-byte change changes what the path means.
const PATH_CHARS: &[u8] = b"/abcXYZ019-._~!$&'()*+,;=:@ ?#[]";

fn path() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(PATH_CHARS.to_vec()), 0..24)
        .prop_map(|bytes| format!("/{}", String::from_utf8(bytes).unwrap()))
}

fn pairs() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec(("[A-Za-z0-9]{1,6}", "[A-Za-z0-9]{1,6}"), 0..6)
}

fn raw_query(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

#[derive(Debug, Clone)]
struct Request {
    method: &'static str,
    path: String,
    query: String,
    body: Vec<u8>,
}

fn request() -> impl Strategy<Value = Request> {
    (
        prop::sample::select(vec!["GET", "POST", "DELETE", "PUT"]),
        path(),
        pairs(),
        prop::collection::vec(any::<u8>(), 0..64),
    )
        .prop_map(|(method, path, pairs, body)| Request {
            method,
            path,
            query: raw_query(&pairs),
            body,
        })
}

fn headers() -> Vec<(String, String)> {
    vec![
        ("Host".into(), "dcs.eu-de.example.com".into()),
        ("X-Sdk-Date".into(), DATE.into()),
        ("X-Project-Id".into(), "0a1b2c".into()),
    ]
}

fn signed() -> Vec<String> {
    vec!["host".into(), DATE_HEADER.into(), "x-project-id".into()]
}

/// Signs the request as the client does and returns the hex signature.
fn sign(sk: &str, r: &Request) -> String {
    let (headers, signed, hash) = (headers(), signed(), payload_hash(&r.body));
    let input = SigningInput {
        method: r.method,
        path: &r.path,
        query: Some(&r.query),
        headers: &headers,
        signed_headers: &signed,
        payload_hash: &hash,
    };
    let header = authorization("AK", sk, &input);
    parse_authorization(&header)
        .expect("own header parses")
        .signature
}

/// Checks a signature as a server does, from what it received.
fn accepts(sk: &str, r: &Request, signature: &str) -> bool {
    let (headers, signed, hash) = (headers(), signed(), payload_hash(&r.body));
    let input = SigningInput {
        method: r.method,
        path: &r.path,
        query: Some(&r.query),
        headers: &headers,
        signed_headers: &signed,
        payload_hash: &hash,
    };
    verify(sk, &input, signature)
}

/// `s` with the byte at `at` replaced by `with` (which differs from it).
fn replace_byte(s: &str, at: usize, with: u8) -> String {
    let mut b = s.as_bytes().to_vec();
    b[at] = with;
    String::from_utf8(b).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn canonicalisation_never_panics(
        method in ".{0,8}", p in ".{0,40}", q in ".{0,40}",
        hs in prop::collection::vec((".{0,10}", ".{0,10}"), 0..4),
        names in prop::collection::vec(".{0,10}", 0..4), hash in ".{0,64}", sig in ".{0,70}",
    ) {
        let input = SigningInput {
            method: &method, path: &p, query: Some(&q), headers: &hs, signed_headers: &names,
            payload_hash: &hash,
        };
        let _ = canonical_request(&input);
        let _ = authorization("AK", "SK", &input);
        let _ = verify("SK", &input, &sig);
        let _ = parse_authorization(&sig);
        let _ = canonical_query(Some(&q));
        let _ = canonical_uri(&p);
    }

    #[test]
    fn canonical_uri_ends_in_a_slash_and_is_idempotent(p in ".{0,40}") {
        let once = canonical_uri(&p);
        prop_assert!(once.starts_with('/') && once.ends_with('/'), "{once:?}");
        prop_assert_eq!(canonical_uri(&once), once.clone());
    }

    #[test]
    fn canonical_query_ignores_order_and_encoding(
        kv in prop::collection::vec((".{0,6}", ".{0,6}"), 0..6),
        order in any::<prop::sample::Index>(),
    ) {
        let form = |kv: &[(String, String)]| {
            url::form_urlencoded::Serializer::new(String::new()).extend_pairs(kv).finish()
        };
        let canonical = canonical_query(Some(&form(&kv)));
        let mut rotated = kv.clone();
        if !rotated.is_empty() {
            let n = order.index(rotated.len());
            rotated.rotate_left(n);
            rotated.reverse();
        }
        prop_assert_eq!(canonical_query(Some(&form(&rotated))), canonical.clone());
        // Spaces as %20 instead of +, and every other byte escaped too: the same query.
        let escaped = kv
            .iter()
            .map(|(k, v)| format!("{}={}", utf8_percent_encode(k, NON_ALPHANUMERIC), utf8_percent_encode(v, NON_ALPHANUMERIC)))
            .collect::<Vec<_>>()
            .join("&");
        prop_assert_eq!(canonical_query(Some(&escaped)), canonical.clone());
        prop_assert_eq!(canonical_query(Some(&canonical)), canonical);
    }

    #[test]
    fn signatures_verify_and_only_with_the_right_key(r in request(), sk in ".{1,20}", other in ".{1,20}") {
        let sig = sign(&sk, &r);
        prop_assert!(accepts(&sk, &r, &sig));
        prop_assert!(!accepts(&sk, &r, &sig[..sig.len() - 1]), "a cut signature fails");
        if other != sk {
            prop_assert!(!accepts(&other, &r, &sig));
        }
    }

    #[test]
    fn one_byte_changes_break_the_signature(
        r in request(), at in any::<prop::sample::Index>(), xor in 1u8..=255,
        pick in any::<prop::sample::Index>(),
    ) {
        let sig = sign("sk", &r);
        if !r.body.is_empty() {
            let mut body = r.body.clone();
            let i = at.index(body.len());
            body[i] ^= xor;
            let tampered = Request { body, ..r.clone() };
            prop_assert!(!accepts("sk", &tampered, &sig), "body changed");
        }
        let i = at.index(r.path.len());
        let with = *pick.get(&PATH_CHARS.iter().filter(|c| **c != r.path.as_bytes()[i]).copied().collect::<Vec<_>>());
        let path = replace_byte(&r.path, i, with);
        let tampered = Request { path, ..r.clone() };
        prop_assert!(!accepts("sk", &tampered, &sig), "{:?} -> {:?}", r.path, tampered.path);
        // Only the bytes of keys and values: `&` and `=` moves may legitimately mean the same.
        let alnum: Vec<usize> = r.query.bytes().enumerate().filter(|(_, b)| b.is_ascii_alphanumeric()).map(|(i, _)| i).collect();
        if !alnum.is_empty() {
            let i = alnum[at.index(alnum.len())];
            let old = r.query.as_bytes()[i];
            let with = if old == b'z' { b'y' } else { b'z' };
            let query = replace_byte(&r.query, i, with);
            let tampered = Request { query, ..r.clone() };
            prop_assert!(!accepts("sk", &tampered, &sig), "{:?} -> {:?}", r.query, tampered.query);
        }
    }
}

#[test]
fn equivalent_spellings_sign_alike_and_that_is_by_design() {
    // The canonical form decodes before it escapes, as the official SDKs do, so `%7e` and `~`, or
    // `+` and `%20` in a query, are the same request and carry the same signature.
    assert_eq!(canonical_uri("/a%7eb"), canonical_uri("/a~b"));
    assert_eq!(canonical_uri("/a%2fb"), canonical_uri("/a%2Fb"));
    assert_eq!(
        canonical_query(Some("a=b+c")),
        canonical_query(Some("a=b%20c"))
    );
    assert_eq!(canonical_query(Some("b=2&a=1")), "a=1&b=2");
    assert_eq!(canonical_uri(""), "/");
    assert_eq!(canonical_uri("/v2/p/instances"), "/v2/p/instances/");
}
