//! A cloud account as read from a credentials Secret: who signs, which cloud, which region, which hosts.

use std::collections::BTreeMap;
use std::fmt;

/// Which cloud the account lives in; decides the default endpoint host names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum CloudKind {
    #[default]
    HuaweiCloud,
    /// Open Telekom Cloud (`*.otc.t-systems.com`).
    Otc,
}

/// DCS API flavour: v2 (default) or the older v1.0 that OTC still documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum DcsApiVersion {
    #[default]
    V2,
    V1,
}

/// How requests are authenticated.
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum Credentials {
    /// AK/SK signing; `security_token` for temporary credentials (sent as `X-Security-Token`).
    AkSk {
        access_key: String,
        secret_key: String,
        security_token: Option<String>,
    },
    /// IAM user password: a project-scoped token is fetched and cached.
    Password {
        username: String,
        password: String,
        domain_name: String,
    },
}

// Debug never prints secrets: logs and error chains may format an Account.
impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AkSk {
                access_key,
                security_token,
                ..
            } => f
                .debug_struct("AkSk")
                .field("access_key", &redact_ak(access_key))
                .field("secret_key", &"<redacted>")
                .field(
                    "security_token",
                    &security_token.as_ref().map(|_| "<redacted>"),
                )
                .finish(),
            Self::Password {
                username,
                domain_name,
                ..
            } => f
                .debug_struct("Password")
                .field("username", username)
                .field("password", &"<redacted>")
                .field("domain_name", domain_name)
                .finish(),
        }
    }
}

/// First four characters of an access key: enough to tell keys apart in a log, useless to an attacker.
pub fn redact_ak(ak: &str) -> String {
    let head: String = ak.chars().take(4).collect();
    format!("{head}***")
}

/// Per-service base URL overrides (`https://host` or `http://127.0.0.1:port`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct EndpointOverrides {
    pub iam: Option<String>,
    pub dcs: Option<String>,
    pub dds: Option<String>,
    pub taurus: Option<String>,
}

/// Everything needed to talk to one cloud account in one region.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Account {
    pub credentials: Credentials,
    pub region: String,
    /// Looked up from IAM by region name when absent.
    pub project_id: Option<String>,
    pub cloud: CloudKind,
    pub endpoints: EndpointOverrides,
    pub dcs_api_version: DcsApiVersion,
}

/// Why a credentials Secret cannot be used. Never carries a secret value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountError {
    #[error("key {0:?} is missing")]
    Missing(&'static str),
    #[error("key {0:?} is not valid UTF-8")]
    NotUtf8(String),
    #[error("key {key:?} has an unsupported value {value:?} (expected {expected})")]
    BadValue {
        key: &'static str,
        value: String,
        expected: &'static str,
    },
    #[error("give either accessKey+secretKey or username+password+domainName, not both")]
    Ambiguous,
    #[error("no credentials: give accessKey+secretKey or username+password+domainName")]
    NoCredentials,
}

/// Secret keys read by [`Account::from_secret_data`].
pub mod keys {
    pub const ACCESS_KEY: &str = "accessKey";
    pub const SECRET_KEY: &str = "secretKey";
    pub const SECURITY_TOKEN: &str = "securityToken";
    pub const USERNAME: &str = "username";
    pub const PASSWORD: &str = "password";
    pub const DOMAIN_NAME: &str = "domainName";
    pub const REGION: &str = "region";
    pub const PROJECT_ID: &str = "projectId";
    pub const CLOUD: &str = "cloud";
    pub const DCS_API_VERSION: &str = "dcsApiVersion";
    pub const IAM_ENDPOINT: &str = "iamEndpoint";
    pub const DCS_ENDPOINT: &str = "dcsEndpoint";
    pub const DDS_ENDPOINT: &str = "ddsEndpoint";
    pub const TAURUS_ENDPOINT: &str = "taurusEndpoint";
}

impl Account {
    /// Reads an account from a Secret's `data` (already base64-decoded by k8s-openapi).
    pub fn from_secret_data(data: &BTreeMap<String, Vec<u8>>) -> Result<Self, AccountError> {
        let get = |k: &'static str| -> Result<Option<String>, AccountError> {
            match data.get(k) {
                None => Ok(None),
                Some(v) => {
                    let s = String::from_utf8(v.clone())
                        .map_err(|_| AccountError::NotUtf8(k.into()))?;
                    let s = s.trim().to_string();
                    Ok((!s.is_empty()).then_some(s))
                }
            }
        };
        let ak = get(keys::ACCESS_KEY)?;
        let sk = get(keys::SECRET_KEY)?;
        let user = get(keys::USERNAME)?;
        let credentials = match (ak, sk, user) {
            (Some(_), _, Some(_)) => return Err(AccountError::Ambiguous),
            (Some(access_key), Some(secret_key), None) => Credentials::AkSk {
                access_key,
                secret_key,
                security_token: get(keys::SECURITY_TOKEN)?,
            },
            (Some(_), None, None) => return Err(AccountError::Missing(keys::SECRET_KEY)),
            (None, Some(_), None) => return Err(AccountError::Missing(keys::ACCESS_KEY)),
            (None, _, Some(username)) => Credentials::Password {
                username,
                password: get(keys::PASSWORD)?.ok_or(AccountError::Missing(keys::PASSWORD))?,
                domain_name: get(keys::DOMAIN_NAME)?
                    .ok_or(AccountError::Missing(keys::DOMAIN_NAME))?,
            },
            (None, None, None) => return Err(AccountError::NoCredentials),
        };
        let cloud = match get(keys::CLOUD)?
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None | Some("huaweicloud") | Some("huawei") => CloudKind::HuaweiCloud,
            Some("otc") | Some("opentelekomcloud") => CloudKind::Otc,
            Some(other) => {
                return Err(AccountError::BadValue {
                    key: keys::CLOUD,
                    value: other.into(),
                    expected: "huaweicloud or otc",
                });
            }
        };
        let dcs_api_version = match get(keys::DCS_API_VERSION)?.as_deref() {
            None | Some("v2") => DcsApiVersion::V2,
            Some("v1.0") | Some("v1") => DcsApiVersion::V1,
            Some(other) => {
                return Err(AccountError::BadValue {
                    key: keys::DCS_API_VERSION,
                    value: other.into(),
                    expected: "v2 or v1.0",
                });
            }
        };
        Ok(Self {
            credentials,
            region: get(keys::REGION)?.ok_or(AccountError::Missing(keys::REGION))?,
            project_id: get(keys::PROJECT_ID)?,
            cloud,
            endpoints: EndpointOverrides {
                iam: get(keys::IAM_ENDPOINT)?,
                dcs: get(keys::DCS_ENDPOINT)?,
                dds: get(keys::DDS_ENDPOINT)?,
                taurus: get(keys::TAURUS_ENDPOINT)?,
            },
            dcs_api_version,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(pairs: &[(&str, &str)]) -> BTreeMap<String, Vec<u8>> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
            .collect()
    }

    #[test]
    fn aksk_account_with_defaults() {
        let a = Account::from_secret_data(&data(&[
            ("accessKey", "AKAK1234"),
            ("secretKey", "SKSK"),
            ("region", "eu-de"),
        ]))
        .unwrap();
        assert_eq!(a.cloud, CloudKind::HuaweiCloud);
        assert_eq!(a.dcs_api_version, DcsApiVersion::V2);
        assert_eq!(a.project_id, None);
        let dbg = format!("{a:?}");
        assert!(!dbg.contains("SKSK") && !dbg.contains("AKAK1234"), "{dbg}");
    }

    #[test]
    fn password_account_otc_v1() {
        let a = Account::from_secret_data(&data(&[
            ("username", "u"),
            ("password", "hunter2"),
            ("domainName", "d"),
            ("region", "eu-de"),
            ("cloud", "otc"),
            ("dcsApiVersion", "v1.0"),
            ("projectId", "p"),
        ]))
        .unwrap();
        assert_eq!(a.cloud, CloudKind::Otc);
        assert_eq!(a.dcs_api_version, DcsApiVersion::V1);
        assert!(!format!("{a:?}").contains("hunter2"));
    }

    #[test]
    fn malformed_secrets_say_what_is_wrong() {
        assert_eq!(
            Account::from_secret_data(&data(&[("region", "r")])),
            Err(AccountError::NoCredentials)
        );
        assert_eq!(
            Account::from_secret_data(&data(&[("accessKey", "a"), ("region", "r")])),
            Err(AccountError::Missing("secretKey"))
        );
        assert_eq!(
            Account::from_secret_data(&data(&[("accessKey", "a"), ("secretKey", "s")])),
            Err(AccountError::Missing("region"))
        );
        assert_eq!(
            Account::from_secret_data(&data(&[
                ("username", "u"),
                ("password", "p"),
                ("region", "r")
            ])),
            Err(AccountError::Missing("domainName"))
        );
        assert_eq!(
            Account::from_secret_data(&data(&[
                ("accessKey", "a"),
                ("secretKey", "s"),
                ("username", "u"),
                ("region", "r")
            ])),
            Err(AccountError::Ambiguous)
        );
        let e = Account::from_secret_data(&data(&[
            ("accessKey", "a"),
            ("secretKey", "s"),
            ("region", "r"),
            ("cloud", "aws"),
        ]))
        .unwrap_err();
        assert!(e.to_string().contains("huaweicloud or otc"));
        let mut d = data(&[("secretKey", "s"), ("region", "r")]);
        d.insert("accessKey".into(), vec![0xff, 0xfe]);
        assert_eq!(
            Account::from_secret_data(&d),
            Err(AccountError::NotUtf8("accessKey".into()))
        );
    }
}
