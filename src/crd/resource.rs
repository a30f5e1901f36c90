//! [`BackupResource`]: the uniform view of the four kinds that the shared controller driver uses.

use std::{fmt::Debug, time::Duration};

use kube::{Resource, core::NamespaceResourceScope};
use serde::{Serialize, de::DeserializeOwned};

use super::{
    common::{DeletionPolicy, OperationStatus},
    duration::parse_duration,
};

/// What every backup/restore kind exposes to the controllers.
pub trait BackupResource:
    Resource<DynamicType = (), Scope = NamespaceResourceScope>
    + Clone
    + Debug
    + Serialize
    + DeserializeOwned
    + Send
    + Sync
    + 'static
{
    /// Lowercase kind for metric labels and log fields, e.g. `dcsbackup`.
    const KIND_LABEL: &'static str;
    /// Timeout when `spec.timeout` is unset (DCS 30m, DDS and TaurusDB 60m).
    const DEFAULT_TIMEOUT: Duration;

    /// `spec.instanceId`.
    fn instance_id(&self) -> &str;
    /// `spec.credentialsSecretRef.name`, if set (otherwise the operator's default Secret name).
    fn credentials_secret(&self) -> Option<&str>;
    /// `spec.timeout` as written, if set.
    fn timeout(&self) -> Option<&str>;
    /// `spec.deletionPolicy`; always [`DeletionPolicy::Retain`] for `DcsRestore`, which never
    /// touches the cloud on delete.
    fn deletion_policy(&self) -> DeletionPolicy;
    /// `.status`, if any has been written.
    fn status(&self) -> Option<&OperationStatus>;
    /// The CRD's rules checked again in Rust; `Err` lists every problem as `"<path>: <message>"`.
    fn validate(&self) -> Result<(), String>;

    /// `spec.timeout` parsed, or [`Self::DEFAULT_TIMEOUT`] when unset.
    fn effective_timeout(&self) -> Result<Duration, String> {
        self.timeout()
            .map_or(Ok(Self::DEFAULT_TIMEOUT), parse_duration)
    }
}
