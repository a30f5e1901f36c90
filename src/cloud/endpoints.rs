//! Base URL of each cloud service for an account: the Secret's override, else the cloud's default host.

use url::Url;

use super::account::{Account, CloudKind};
use super::error::Error;

/// The cloud services the operator talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    Iam,
    Dcs,
    Dds,
    Taurus,
}

impl Service {
    /// Stable lower-case label for metrics and errors.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Iam => "iam",
            Self::Dcs => "dcs",
            Self::Dds => "dds",
            Self::Taurus => "taurus",
        }
    }
}

/// Huawei regions whose TaurusDB host is `gaussdbformysql.` (PYSDK `gaussdb_region.py`).
const TAURUS_GAUSSDBFORMYSQL: &[&str] = &[
    "ap-southeast-1",
    "ap-southeast-2",
    "cn-north-11",
    "tr-west-1",
    "me-east-1",
];
/// Huawei regions whose TaurusDB host is `gaussdb-mysql.`.
const TAURUS_GAUSSDB_MYSQL: &[&str] = &["af-south-1", "cn-east-5", "la-north-2", "cn-southwest-3"];

/// The base URL of `service` for `account`: the override when set, else the default host.
pub fn base_url(account: &Account, service: Service) -> Result<Url, Error> {
    let overridden = match service {
        Service::Iam => account.endpoints.iam.as_deref(),
        Service::Dcs => account.endpoints.dcs.as_deref(),
        Service::Dds => account.endpoints.dds.as_deref(),
        Service::Taurus => account.endpoints.taurus.as_deref(),
    };
    let raw = match overridden {
        Some(url) => url.trim().to_string(),
        None => default_base_url(account.cloud, &account.region, service)?,
    };
    let url = Url::parse(&raw).map_err(|e| {
        Error::Config(format!(
            "{} endpoint {raw:?} is not a URL: {e}",
            service.as_str()
        ))
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(Error::Config(format!(
            "{} endpoint {raw:?} must be an http(s) URL with a host",
            service.as_str()
        )));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::Config(format!(
            "{} endpoint {raw:?} must not carry a query or fragment",
            service.as_str()
        )));
    }
    Ok(url)
}

/// The documented default base URL of `service` in `region` of `cloud`.
pub fn default_base_url(cloud: CloudKind, region: &str, service: Service) -> Result<String, Error> {
    // The region becomes part of a host name, so anything but a DNS label is refused up front.
    let valid = !region.is_empty()
        && region.len() <= 63
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !region.starts_with('-')
        && !region.ends_with('-');
    if !valid {
        return Err(Error::Config(format!(
            "region {region:?} is not a valid region name"
        )));
    }
    Ok(match cloud {
        CloudKind::HuaweiCloud => {
            let domain = if is_eu_sovereign(region) {
                "myhuaweicloud.eu"
            } else {
                "myhuaweicloud.com"
            };
            let svc = match service {
                Service::Iam => "iam",
                Service::Dcs => "dcs",
                Service::Dds => "dds",
                Service::Taurus if TAURUS_GAUSSDBFORMYSQL.contains(&region) => "gaussdbformysql",
                Service::Taurus if TAURUS_GAUSSDB_MYSQL.contains(&region) => "gaussdb-mysql",
                Service::Taurus => "gaussdb",
            };
            format!("https://{svc}.{region}.{domain}")
        }
        CloudKind::Otc => {
            // Swiss OTC lives under its own `sc.` sub-domain and names its IAM host `iam-pub`.
            let swiss = region == "eu-ch2";
            let svc = match service {
                Service::Iam if swiss => "iam-pub",
                Service::Iam => "iam",
                Service::Dcs => "dcs",
                Service::Dds => "dds",
                Service::Taurus => "gaussdb-mysql",
            };
            let domain = if swiss {
                "sc.otc.t-systems.com"
            } else {
                "otc.t-systems.com"
            };
            format!("https://{svc}.{region}.{domain}")
        }
    })
}

/// `eu-west-1xx` regions (e.g. `eu-west-101`) are served from `myhuaweicloud.eu`.
fn is_eu_sovereign(region: &str) -> bool {
    region
        .strip_prefix("eu-west-1")
        .is_some_and(|rest| rest.len() == 2 && rest.bytes().all(|b| b.is_ascii_digit()))
}

/// Appends `segments` to the base URL's own path; each segment is percent-encoded on its own, so
/// an id can never add path levels or a query.
pub(crate) fn join(base: &Url, segments: &[&str]) -> Result<Url, Error> {
    if let Some(bad) = segments
        .iter()
        .find(|s| s.is_empty() || **s == "." || **s == "..")
    {
        return Err(Error::Config(format!("invalid id {bad:?} in request path")));
    }
    let mut url = base.clone();
    {
        let mut path = url
            .path_segments_mut()
            .map_err(|_| Error::Config(format!("endpoint {base} cannot carry a path")))?;
        // A trailing slash on the override leaves an empty last segment; drop it.
        path.pop_if_empty();
        path.extend(segments);
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::account::{Credentials, DcsApiVersion, EndpointOverrides};

    fn hw(region: &str, svc: Service) -> String {
        default_base_url(CloudKind::HuaweiCloud, region, svc).unwrap()
    }

    fn otc(region: &str, svc: Service) -> String {
        default_base_url(CloudKind::Otc, region, svc).unwrap()
    }

    #[test]
    fn huawei_defaults() {
        assert_eq!(
            hw("ap-southeast-3", Service::Dcs),
            "https://dcs.ap-southeast-3.myhuaweicloud.com"
        );
        assert_eq!(
            hw("cn-north-4", Service::Dds),
            "https://dds.cn-north-4.myhuaweicloud.com"
        );
        assert_eq!(
            hw("cn-north-4", Service::Iam),
            "https://iam.cn-north-4.myhuaweicloud.com"
        );
        assert_eq!(
            hw("cn-north-4", Service::Taurus),
            "https://gaussdb.cn-north-4.myhuaweicloud.com"
        );
    }

    #[test]
    fn huawei_eu_west_1xx_uses_dot_eu() {
        assert_eq!(
            hw("eu-west-101", Service::Dds),
            "https://dds.eu-west-101.myhuaweicloud.eu"
        );
        assert_eq!(
            hw("eu-west-101", Service::Iam),
            "https://iam.eu-west-101.myhuaweicloud.eu"
        );
        // eu-west-0 (Paris) is an ordinary .com region.
        assert_eq!(
            hw("eu-west-0", Service::Dcs),
            "https://dcs.eu-west-0.myhuaweicloud.com"
        );
        assert_eq!(
            hw("eu-west-1", Service::Dcs),
            "https://dcs.eu-west-1.myhuaweicloud.com"
        );
    }

    #[test]
    fn huawei_taurus_host_exceptions() {
        for r in TAURUS_GAUSSDBFORMYSQL {
            assert_eq!(
                hw(r, Service::Taurus),
                format!("https://gaussdbformysql.{r}.myhuaweicloud.com")
            );
        }
        for r in TAURUS_GAUSSDB_MYSQL {
            assert_eq!(
                hw(r, Service::Taurus),
                format!("https://gaussdb-mysql.{r}.myhuaweicloud.com")
            );
        }
        assert_eq!(
            hw("ap-southeast-1", Service::Dds),
            "https://dds.ap-southeast-1.myhuaweicloud.com"
        );
    }

    #[test]
    fn otc_defaults_and_swiss() {
        assert_eq!(
            otc("eu-de", Service::Dcs),
            "https://dcs.eu-de.otc.t-systems.com"
        );
        assert_eq!(
            otc("eu-nl", Service::Taurus),
            "https://gaussdb-mysql.eu-nl.otc.t-systems.com"
        );
        assert_eq!(
            otc("eu-de", Service::Iam),
            "https://iam.eu-de.otc.t-systems.com"
        );
        assert_eq!(
            otc("eu-ch2", Service::Dds),
            "https://dds.eu-ch2.sc.otc.t-systems.com"
        );
        assert_eq!(
            otc("eu-ch2", Service::Iam),
            "https://iam-pub.eu-ch2.sc.otc.t-systems.com"
        );
    }

    #[test]
    fn bad_region_is_a_config_error() {
        for r in ["", "EU-DE", "eu.de", "evil.com/x", "-eu"] {
            let e = default_base_url(CloudKind::Otc, r, Service::Dcs).unwrap_err();
            assert!(matches!(e, Error::Config(_)), "{r}");
        }
    }

    fn account(endpoints: EndpointOverrides) -> Account {
        Account {
            credentials: Credentials::AkSk {
                access_key: "a".into(),
                secret_key: "s".into(),
                security_token: None,
            },
            region: "eu-de".into(),
            project_id: None,
            cloud: CloudKind::Otc,
            endpoints,
            dcs_api_version: DcsApiVersion::V2,
        }
    }

    #[test]
    fn overrides_win_and_keep_their_path_prefix() {
        let a = account(EndpointOverrides {
            dds: Some("http://127.0.0.1:4567/dds/".into()),
            dcs: Some(" http://127.0.0.1:4567/dcs ".into()),
            ..Default::default()
        });
        let dds = base_url(&a, Service::Dds).unwrap();
        assert_eq!(
            join(&dds, &["v3", "p1", "backups"]).unwrap().as_str(),
            "http://127.0.0.1:4567/dds/v3/p1/backups"
        );
        let dcs = base_url(&a, Service::Dcs).unwrap();
        assert_eq!(
            join(&dcs, &["v2", "p", "instances", "i"]).unwrap().as_str(),
            "http://127.0.0.1:4567/dcs/v2/p/instances/i"
        );
        let iam = base_url(&a, Service::Iam).unwrap();
        assert_eq!(
            join(&iam, &["v3", "auth", "tokens"]).unwrap().as_str(),
            "https://iam.eu-de.otc.t-systems.com/v3/auth/tokens"
        );
    }

    #[test]
    fn bad_overrides_are_config_errors() {
        for bad in ["not a url", "ftp://x/y", "http://h/p?q=1", "mailto:a@b"] {
            let a = account(EndpointOverrides {
                dcs: Some(bad.into()),
                ..Default::default()
            });
            assert!(
                matches!(base_url(&a, Service::Dcs), Err(Error::Config(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn ids_cannot_escape_their_segment() {
        let base = Url::parse("https://dcs.eu-de.otc.t-systems.com").unwrap();
        let u = join(&base, &["v2", "p", "instances", "a/b?c"]).unwrap();
        assert_eq!(u.path(), "/v2/p/instances/a%2Fb%3Fc");
        assert_eq!(u.query(), None);
        for bad in ["", ".", ".."] {
            assert!(join(&base, &["v2", bad]).is_err());
        }
    }
}
