//! The endpoint allow-list: the hosts cloud requests (and with them signatures and tokens) may go to.
//!
//! Endpoint overrides come from credentials Secrets, which anyone who may write a Secret in a
//! watched namespace controls. Without a list, such a Secret points the operator's signed requests
//! at any service its pod can reach (SSRF). So every request URL is checked against
//! `--allowed-endpoint-hosts` before anything is sent:
//! - `*.example.com` allows every host under `example.com` (never `example.com` itself, never an
//!   IP address);
//! - `host` or `host:port` allows exactly that name or IP address (on any port, or on `port`);
//! - plain `http` is allowed only to a loopback host (`127.0.0.0/8`, `::1`, `localhost`) that is
//!   listed by itself: a wildcard never matches one. The simulator is reached that way.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use url::{Host, Url};

use super::error::{Error, truncate};

/// The Huawei Cloud and Open Telekom Cloud domains: every default endpoint lies under one of them.
pub const DEFAULT_ALLOWED_HOSTS: &[&str] = &[
    "*.myhuaweicloud.com",
    "*.myhuaweicloud.eu",
    "*.otc.t-systems.com",
];

/// The command-line flag that holds the list; refusals name it so the user knows what to change.
pub const FLAG: &str = "--allowed-endpoint-hosts";

/// One entry of the list.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum HostPattern {
    /// `*.<domain>`: any host below `domain` (stored without the `*.`).
    Subdomains(String),
    /// A host name or IP address (canonical text), optionally with a port.
    Exact { host: String, port: Option<u16> },
}

impl FromStr for HostPattern {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, String> {
        let text = raw.trim().to_ascii_lowercase();
        if let Some(domain) = text.strip_prefix("*.") {
            if !is_domain(domain) || !domain.contains('.') {
                return Err(format!(
                    "{raw:?}: a wildcard needs a domain of at least two labels, e.g. *.example.com"
                ));
            }
            return Ok(Self::Subdomains(domain.to_string()));
        }
        let (host, port) = split_port(&text).ok_or_else(|| format!("{raw:?}: invalid port"))?;
        let host = match host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
        {
            Ok(ip) => ip.to_string(),
            Err(_) if is_domain(host) => host.to_string(),
            Err(_) => {
                return Err(format!(
                    "{raw:?}: expected a host name, an IP address, host:port or *.domain"
                ));
            }
        };
        Ok(Self::Exact { host, port })
    }
}

impl fmt::Display for HostPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Subdomains(domain) => write!(f, "*.{domain}"),
            Self::Exact { host, port } => {
                let host = if host.contains(':') {
                    format!("[{host}]")
                } else {
                    host.clone()
                };
                match port {
                    Some(port) => write!(f, "{host}:{port}"),
                    None => f.write_str(&host),
                }
            }
        }
    }
}

impl HostPattern {
    fn matches(&self, host: &Host<&str>, port: Option<u16>) -> bool {
        match (self, host) {
            (Self::Subdomains(domain), Host::Domain(name)) => name
                .strip_suffix(domain.as_str())
                .is_some_and(|head| head.len() > 1 && head.ends_with('.')),
            (Self::Subdomains(_), _) => false,
            (
                Self::Exact {
                    host: want,
                    port: want_port,
                },
                _,
            ) => canonical(host) == *want && want_port.is_none_or(|p| Some(p) == port),
        }
    }
}

/// The list of allowed endpoint hosts; part of the transport configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedHosts(Vec<HostPattern>);

/// [`DEFAULT_ALLOWED_HOSTS`] parsed: the flag's default.
pub fn default_patterns() -> Vec<HostPattern> {
    DEFAULT_ALLOWED_HOSTS
        .iter()
        .filter_map(|p| p.parse().ok())
        .collect()
}

impl Default for AllowedHosts {
    /// [`DEFAULT_ALLOWED_HOSTS`].
    fn default() -> Self {
        Self(default_patterns())
    }
}

impl fmt::Display for AllowedHosts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let all: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&all.join(", "))
    }
}

impl AllowedHosts {
    pub fn new(patterns: Vec<HostPattern>) -> Self {
        Self(patterns)
    }

    /// The list plus `pattern`.
    pub fn with(mut self, pattern: HostPattern) -> Self {
        if !self.0.contains(&pattern) {
            self.0.push(pattern);
        }
        self
    }

    /// The list plus the exact host and port of `url` (e.g. the embedded simulator's address).
    pub fn with_url(self, url: &Url) -> Self {
        match url.host() {
            Some(host) => self.with(HostPattern::Exact {
                host: canonical(&host),
                port: url.port_or_known_default(),
            }),
            None => self,
        }
    }

    /// `Ok` when a request to `url` may be sent, else why not (naming [`FLAG`]).
    pub fn check(&self, url: &Url) -> Result<(), String> {
        let Some(host) = url.host() else {
            return Err("the URL has no host".into());
        };
        let port = url.port_or_known_default();
        match url.scheme() {
            "https" => {}
            "http" if is_loopback(&host) => {}
            "http" => {
                return Err(format!(
                    "plain http is allowed only to a loopback address listed in {FLAG}; use https://"
                ));
            }
            other => return Err(format!("scheme {other:?} is not allowed; use https://")),
        }
        if self.0.iter().any(|p| p.matches(&host, port)) {
            Ok(())
        } else {
            Err(format!("the host is not in {FLAG} ({self})"))
        }
    }
}

/// Longest host quoted in a refusal (DNS names have at most 253 characters).
const MAX_HOST_LEN: usize = 260;

impl AllowedHosts {
    /// `Err(EndpointRefused)`, naming the host and why, unless a request of `service` to `url`
    /// may be sent.
    pub(crate) fn admit(&self, service: &'static str, url: &Url) -> Result<(), Error> {
        self.check(url).map_err(|why| {
            let host = match (url.host_str(), url.port()) {
                (Some(host), Some(port)) => format!("{host}:{port}"),
                (Some(host), None) => host.to_string(),
                (None, _) => "(none)".to_string(),
            };
            tracing::debug!(service, %host, %why, "endpoint refused");
            Error::EndpointRefused {
                service,
                host: truncate(&host, MAX_HOST_LEN),
                why,
            }
        })
    }
}

/// Text of a URL host as patterns store it: lower-case names, canonical IP addresses.
fn canonical(host: &Host<&str>) -> String {
    match host {
        Host::Domain(name) => name.to_ascii_lowercase(),
        Host::Ipv4(ip) => ip.to_string(),
        Host::Ipv6(ip) => ip.to_string(),
    }
}

fn is_loopback(host: &Host<&str>) -> bool {
    match host {
        Host::Domain(name) => name.eq_ignore_ascii_case("localhost"),
        Host::Ipv4(ip) => ip.is_loopback(),
        Host::Ipv6(ip) => ip.is_loopback(),
    }
}

/// A DNS name: dot-separated labels of letters, digits and inner `-`.
fn is_domain(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// `host`, `host:port`, `[v6]` or `[v6]:port`; `None` when a port is given but is not a number.
fn split_port(text: &str) -> Option<(&str, Option<u16>)> {
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        let (v6, after) = rest.split_once(']')?;
        match after.strip_prefix(':') {
            Some(port) => (v6, Some(port)),
            None if after.is_empty() => (v6, None),
            None => return None,
        }
    } else if text.matches(':').count() == 1 {
        let (host, port) = text.split_once(':')?;
        (host, Some(port))
    } else {
        // No colon, or a bare IPv6 address.
        (text, None)
    };
    match port {
        Some(port) => Some((host, Some(port.parse().ok()?))),
        None => Some((host, None)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(patterns: &[&str]) -> AllowedHosts {
        AllowedHosts::new(patterns.iter().map(|p| p.parse().unwrap()).collect())
    }

    fn ok(hosts: &AllowedHosts, url: &str) -> bool {
        hosts.check(&Url::parse(url).unwrap()).is_ok()
    }

    #[test]
    fn every_default_pattern_parses() {
        assert_eq!(default_patterns().len(), DEFAULT_ALLOWED_HOSTS.len());
    }

    #[test]
    fn the_default_allows_the_cloud_domains_over_https_only() {
        let d = AllowedHosts::default();
        for url in [
            "https://dcs.eu-de.otc.t-systems.com",
            "https://iam-pub.eu-ch2.sc.otc.t-systems.com/v3",
            "https://gaussdb.ap-southeast-1.myhuaweicloud.com",
            "https://DDS.eu-west-101.MyHuaweiCloud.eu:443/",
            "https://iam.myhuaweicloud.com",
        ] {
            assert!(ok(&d, url), "{url}");
        }
        for url in [
            "http://dcs.eu-de.otc.t-systems.com",
            "https://myhuaweicloud.com",
            "https://evilmyhuaweicloud.com",
            "https://myhuaweicloud.com.evil.io",
            "https://dcs.eu-de.otc.t-systems.com.",
            "https://127.0.0.1",
            "http://127.0.0.1:4567",
            "http://localhost",
            "https://169.254.169.254/openstack/latest/securitykey",
            "https://internal.svc.cluster.local",
        ] {
            assert!(!ok(&d, url), "{url}");
        }
    }

    #[test]
    fn loopback_only_when_listed_and_http_only_to_loopback() {
        let l = list(&["127.0.0.1:4567", "localhost", "[::1]", "sim.example"]);
        assert!(ok(&l, "http://127.0.0.1:4567/dcs"));
        assert!(!ok(&l, "http://127.0.0.1:4568/dcs"), "another port");
        assert!(!ok(&l, "http://127.0.0.2:4567"), "another address");
        assert!(ok(&l, "http://localhost:9999"));
        assert!(ok(&l, "http://[::1]:80"));
        assert!(ok(&l, "https://sim.example"));
        let e = l
            .check(&Url::parse("http://sim.example").unwrap())
            .unwrap_err();
        assert!(e.contains("https://") && e.contains(FLAG), "{e}");
        assert!(!ok(&list(&["*.example.com"]), "http://localhost"));
        // Hexadecimal and shortened IPv4 forms are normalised by the URL parser first.
        assert!(ok(&list(&["127.0.0.1"]), "http://0x7f.0.0.1:1"));
    }

    #[test]
    fn refusals_name_the_flag_and_the_list() {
        let e = AllowedHosts::default()
            .check(&Url::parse("https://evil.example").unwrap())
            .unwrap_err();
        assert!(e.contains(FLAG) && e.contains("*.otc.t-systems.com"), "{e}");
        let e = AllowedHosts::default()
            .check(&Url::parse("ftp://dcs.eu-de.otc.t-systems.com").unwrap())
            .unwrap_err();
        assert!(e.contains("ftp"), "{e}");
    }

    #[test]
    fn patterns_parse_and_print_canonically() {
        for (raw, shown) in [
            ("*.MyHuaweiCloud.com", "*.myhuaweicloud.com"),
            (" 127.0.0.1:4567 ", "127.0.0.1:4567"),
            ("[::1]:8080", "[::1]:8080"),
            ("::1", "[::1]"),
            ("localhost", "localhost"),
            ("dcs.internal.example", "dcs.internal.example"),
        ] {
            assert_eq!(raw.parse::<HostPattern>().unwrap().to_string(), shown);
        }
        for bad in [
            "",
            "*",
            "*.com",
            "*.",
            "a.*.com",
            "http://x",
            "x/y",
            "host:port",
            "h:99999",
            "a_b",
            "-a.com",
        ] {
            assert!(bad.parse::<HostPattern>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn with_url_adds_exactly_that_address() {
        let sim = Url::parse("http://127.0.0.1:4567/dcs").unwrap();
        let l = AllowedHosts::default().with_url(&sim);
        assert!(ok(&l, "http://127.0.0.1:4567/iam"));
        assert!(!ok(&l, "http://127.0.0.1:4568/iam"));
        assert!(ok(&l, "https://dcs.eu-de.otc.t-systems.com"));
    }
}
