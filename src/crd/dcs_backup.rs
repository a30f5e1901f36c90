//! `DcsBackup`: one manual backup of a DCS (Redis) instance.

use std::time::Duration;

use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{
    common::{DeletionPolicy, OperationStatus, SecretRef},
    resource::BackupResource,
    rules::*,
};

/// Desired DCS backup. The whole spec is immutable once created.
// Repeated `printcolumn(type_ = "string", ..)` entries are distinct columns, not duplicates.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "backup.hwcloud.dev",
    version = "v1alpha1",
    kind = "DcsBackup",
    namespaced,
    status = "OperationStatus",
    shortname = "dcsb",
    category = "hwcloud",
    cel,
    doc = "A manual backup of a Huawei Cloud / Open Telekom Cloud DCS (Redis) instance.",
    printcolumn(name = "Phase", type_ = "string", json_path = ".status.phase"),
    printcolumn(name = "Instance", type_ = "string", json_path = ".spec.instanceId"),
    printcolumn(name = "BackupID", type_ = "string", json_path = ".status.backupId"),
    printcolumn(
        name = "Size",
        type_ = "string",
        json_path = ".status.size",
        description = "size of the backup in binary units"
    ),
    printcolumn(
        name = "Bytes",
        type_ = "integer",
        json_path = ".status.sizeBytes",
        description = "size of the backup in bytes",
        priority = 1
    ),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new(IMMUTABLE_RULE).message(IMMUTABLE_MSG))]
pub struct DcsBackupSpec {
    /// Id of the DCS instance to back up.
    #[schemars(length(max = 64))]
    #[x_kube(validation = Rule::new(INSTANCE_ID_RULE).message(INSTANCE_ID_MSG))]
    pub instance_id: String,
    /// Secret in this namespace with the cloud account; defaults to the operator's configured name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials_secret_ref: Option<SecretRef>,
    /// How long to wait for the backup before marking it Failed, e.g. `30m`, `1h30m`
    /// (units h, m, s; 1s to 168h). Default 30m.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 16))]
    #[x_kube(validation = Rule::new(TIMEOUT_FORMAT_RULE).message(TIMEOUT_FORMAT_MSG))]
    #[x_kube(validation = Rule::new(TIMEOUT_RANGE_RULE).message(TIMEOUT_RANGE_MSG))]
    pub timeout: Option<String>,
    /// `Retain` keeps the cloud backup when this resource is deleted; `Delete` deletes it.
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,
    /// Free-text note stored with the backup (at most 80 characters). The operator appends a
    /// short marker that ties the cloud backup to this resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 80))]
    pub remark: Option<String>,
    /// File format of the backup (see [`DcsBackupFormat`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_format: Option<DcsBackupFormat>,
}

/// File format of the backup, `rdb` or `aof` (DCS API v2 only; the cloud's default is `rdb`).
// An optional enum's schema takes this type doc, not the field's, so the user-facing text is here.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum DcsBackupFormat {
    /// Redis RDB snapshot.
    Rdb,
    /// Redis append-only file.
    Aof,
}

impl BackupResource for DcsBackup {
    const KIND_LABEL: &'static str = "dcsbackup";
    const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30 * 60);

    fn instance_id(&self) -> &str {
        &self.spec.instance_id
    }

    fn credentials_secret(&self) -> Option<&str> {
        self.spec
            .credentials_secret_ref
            .as_ref()
            .map(|r| r.name.as_str())
    }

    fn timeout(&self) -> Option<&str> {
        self.spec.timeout.as_deref()
    }

    fn deletion_policy(&self) -> DeletionPolicy {
        self.spec.deletion_policy
    }

    fn status(&self) -> Option<&OperationStatus> {
        self.status.as_ref()
    }

    fn validate(&self) -> Result<(), String> {
        let spec = &self.spec;
        let mut checks = Checks::default();
        checks.common(&spec.instance_id, self.credentials_secret(), self.timeout());
        if let Some(remark) = &spec.remark {
            checks.max_len(remark, REMARK_MAX_LEN, "spec.remark");
        }
        checks.finish()
    }
}
