//! AK/SK request signing: the headers that make the API gateway accept one request attempt.
//!
//! Signs `host;x-sdk-date` plus `x-project-id` and `x-security-token` when present, which is the
//! smallest set the official SDKs send and the gateway requires.

use http::header::{AUTHORIZATION, HOST, HeaderMap, HeaderName, HeaderValue};
use jiff::Timestamp;
use url::Url;

use super::error::Error;
use super::signer::{DATE_FORMAT, DATE_HEADER, SigningInput, authorization, payload_hash};

pub(crate) const PROJECT_ID_HEADER: &str = "x-project-id";
pub(crate) const SECURITY_TOKEN_HEADER: &str = "x-security-token";
pub(crate) const AUTH_TOKEN_HEADER: &str = "x-auth-token";

/// The credentials of one signed attempt. Holds borrowed secrets only for the call's duration.
#[derive(Clone, Copy)]
pub(crate) struct AkSkSigner<'a> {
    pub access_key: &'a str,
    pub secret_key: &'a str,
    pub security_token: Option<&'a str>,
    /// Sent as `X-Project-Id` on regional service calls; `None` for IAM project lookup.
    pub project_id: Option<&'a str>,
}

impl AkSkSigner<'_> {
    /// The headers to add to a request: `Host`, `X-Sdk-Date`, optional project/security token
    /// headers and `Authorization`. `now` is a parameter so that tests can fix the date.
    pub(crate) fn sign(
        &self,
        method: &str,
        url: &Url,
        body: &[u8],
        now: Timestamp,
    ) -> Result<HeaderMap, Error> {
        let mut pairs: Vec<(String, String)> = vec![
            (HOST.as_str().to_string(), host_header(url)?),
            (
                DATE_HEADER.to_string(),
                now.strftime(DATE_FORMAT).to_string(),
            ),
        ];
        if let Some(pid) = self.project_id {
            pairs.push((PROJECT_ID_HEADER.to_string(), pid.to_string()));
        }
        if let Some(token) = self.security_token {
            pairs.push((SECURITY_TOKEN_HEADER.to_string(), token.to_string()));
        }
        let signed: Vec<String> = pairs.iter().map(|(k, _)| k.clone()).collect();
        let hash = payload_hash(body);
        let input = SigningInput {
            method,
            path: url.path(),
            query: url.query(),
            headers: &pairs,
            signed_headers: &signed,
            payload_hash: &hash,
        };
        let auth = authorization(self.access_key, self.secret_key, &input);

        let mut headers = HeaderMap::new();
        for (name, value) in pairs
            .into_iter()
            .chain(std::iter::once((AUTHORIZATION.as_str().to_string(), auth)))
        {
            let secret = name == SECURITY_TOKEN_HEADER || name == AUTHORIZATION.as_str();
            // Names are our own constants; a value can only fail when a credential holds control
            // characters, and the message must not echo it.
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| Error::Config(format!("invalid header name {name}")))?;
            let mut value = HeaderValue::from_str(&value).map_err(|_| {
                Error::Config(format!(
                    "the value for header {name} contains characters not allowed in HTTP headers"
                ))
            })?;
            value.set_sensitive(secret);
            headers.insert(name, value);
        }
        Ok(headers)
    }
}

/// `X-Auth-Token` for IAM token authentication, marked sensitive so no Debug output shows it.
pub(crate) fn token_header(token: &str) -> Result<(HeaderName, HeaderValue), Error> {
    let mut value = HeaderValue::from_str(token).map_err(|_| {
        Error::Auth("IAM returned a token that is not a valid HTTP header value".into())
    })?;
    value.set_sensitive(true);
    Ok((HeaderName::from_static(AUTH_TOKEN_HEADER), value))
}

/// The `Host` value a client sends: the port only when it is not the scheme's default.
pub(crate) fn host_header(url: &Url) -> Result<String, Error> {
    let host = url
        .host_str()
        .ok_or_else(|| Error::Config(format!("URL {url} has no host")))?;
    Ok(match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::signer::{parse_authorization, verify};

    fn fixed() -> Timestamp {
        "2026-01-02T03:04:05Z".parse().unwrap()
    }

    /// Rebuilds the signing input from what a server receives and checks the signature.
    fn server_accepts(sk: &str, method: &str, url: &Url, body: &[u8], headers: &HeaderMap) -> bool {
        let received: Vec<(String, String)> = headers
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap().to_string()))
            .collect();
        let parsed =
            parse_authorization(headers.get(AUTHORIZATION).unwrap().to_str().unwrap()).unwrap();
        let hash = payload_hash(body);
        let input = SigningInput {
            method,
            path: url.path(),
            query: url.query(),
            headers: &received,
            signed_headers: &parsed.signed_headers,
            payload_hash: &hash,
        };
        verify(sk, &input, &parsed.signature)
    }

    #[test]
    fn signed_headers_verify_with_the_secret_key() {
        let url =
            Url::parse("http://127.0.0.1:4567/dcs/v2/p1/instances/i1/backups?offset=0&limit=1000")
                .unwrap();
        let signer = AkSkSigner {
            access_key: "AKTEST",
            secret_key: "SKTEST",
            security_token: None,
            project_id: Some("p1"),
        };
        let body = br#"{"remark":"x"}"#;
        let h = signer.sign("POST", &url, body, fixed()).unwrap();
        assert_eq!(h.get("x-sdk-date").unwrap(), "20260102T030405Z");
        assert_eq!(h.get("host").unwrap(), "127.0.0.1:4567");
        assert_eq!(h.get("x-project-id").unwrap(), "p1");
        let auth = h.get(AUTHORIZATION).unwrap().to_str().unwrap();
        assert!(
            auth.starts_with(
                "SDK-HMAC-SHA256 Access=AKTEST, SignedHeaders=host;x-project-id;x-sdk-date, Signature="
            ),
            "{auth}"
        );
        assert!(server_accepts("SKTEST", "POST", &url, body, &h));
        assert!(!server_accepts("wrong", "POST", &url, body, &h));
        assert!(!server_accepts("SKTEST", "POST", &url, b"{}", &h));
        assert!(!server_accepts("SKTEST", "GET", &url, body, &h));
    }

    #[test]
    fn security_token_is_signed_and_default_port_left_out() {
        let url = Url::parse("https://dcs.eu-de.otc.t-systems.com:443/v2/p/instances").unwrap();
        let signer = AkSkSigner {
            access_key: "AK",
            secret_key: "SK",
            security_token: Some("STS-TOKEN"),
            project_id: None,
        };
        let h = signer.sign("GET", &url, b"", fixed()).unwrap();
        assert_eq!(h.get("host").unwrap(), "dcs.eu-de.otc.t-systems.com");
        assert_eq!(h.get("x-security-token").unwrap(), "STS-TOKEN");
        assert!(h.get("x-project-id").is_none());
        let auth = h.get(AUTHORIZATION).unwrap().to_str().unwrap();
        assert!(auth.contains("SignedHeaders=host;x-sdk-date;x-security-token,"));
        assert!(server_accepts("SK", "GET", &url, b"", &h));
        // Secrets are marked sensitive so that a Debug of the header map hides them.
        assert!(h.get(AUTHORIZATION).unwrap().is_sensitive());
        assert!(h.get("x-security-token").unwrap().is_sensitive());
        assert!(!format!("{h:?}").contains("STS-TOKEN"));
    }

    #[test]
    fn host_keeps_non_default_ports_only() {
        let h = |u: &str| host_header(&Url::parse(u).unwrap()).unwrap();
        assert_eq!(h("http://127.0.0.1:80/x"), "127.0.0.1");
        assert_eq!(h("http://127.0.0.1:8080/x"), "127.0.0.1:8080");
        assert_eq!(
            h("https://iam.eu-de.otc.t-systems.com/v3"),
            "iam.eu-de.otc.t-systems.com"
        );
        assert_eq!(h("https://[::1]:8443/"), "[::1]:8443");
    }

    #[test]
    fn control_characters_in_credentials_are_refused_without_echo() {
        let url = Url::parse("https://x.example/").unwrap();
        let signer = AkSkSigner {
            access_key: "AK",
            secret_key: "SK",
            security_token: Some("bad\ntoken"),
            project_id: None,
        };
        let e = signer.sign("GET", &url, b"", fixed()).unwrap_err();
        assert!(!e.to_string().contains("bad"), "{e}");
        assert!(token_header("tok\r\n").is_err());
        let (_, v) = token_header("tok").unwrap();
        assert!(v.is_sensitive());
    }
}
