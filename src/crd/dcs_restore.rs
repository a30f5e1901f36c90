//! `DcsRestore`: restore a DCS (Redis) instance from one of its backups.

use std::time::Duration;

use kube::{CustomResource, KubeSchema};
use serde::{Deserialize, Serialize};

use super::{
    common::{DeletionPolicy, LocalObjectRef, OperationStatus, SecretRef},
    resource::BackupResource,
    rules::*,
};

/// Desired DCS restore. The whole spec is immutable once created.
// Repeated `printcolumn(type_ = "string", ..)` entries are distinct columns, not duplicates.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "backup.hwcloud.dev",
    version = "v1alpha1",
    kind = "DcsRestore",
    namespaced,
    status = "OperationStatus",
    shortname = "dcsr",
    category = "hwcloud",
    cel,
    doc = "A restore of a Huawei Cloud / Open Telekom Cloud DCS (Redis) instance from one of its backups. \
           Deleting it never touches the cloud.",
    printcolumn(name = "Phase", type_ = "string", json_path = ".status.phase"),
    printcolumn(name = "Instance", type_ = "string", json_path = ".spec.instanceId"),
    printcolumn(name = "RestoreID", type_ = "string", json_path = ".status.restoreId"),
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
#[x_kube(validation = Rule::new(EXACTLY_ONE_BACKUP_RULE).message(EXACTLY_ONE_BACKUP_MSG))]
pub struct DcsRestoreSpec {
    /// Id of the DCS instance to restore into. The backup must belong to this instance.
    #[schemars(length(max = 64))]
    #[x_kube(validation = Rule::new(INSTANCE_ID_RULE).message(INSTANCE_ID_MSG))]
    pub instance_id: String,
    /// Secret in this namespace with the cloud account; defaults to the operator's configured name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials_secret_ref: Option<SecretRef>,
    /// How long to wait for the restore before marking it Failed, e.g. `30m`, `1h30m`
    /// (units h, m, s; 1s to 168h). Default 30m. Counted from when the cloud accepted the
    /// restore; waiting for a referenced DcsBackup does not count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 16))]
    #[x_kube(validation = Rule::new(TIMEOUT_FORMAT_RULE).message(TIMEOUT_FORMAT_MSG))]
    #[x_kube(validation = Rule::new(TIMEOUT_RANGE_RULE).message(TIMEOUT_RANGE_MSG))]
    pub timeout: Option<String>,
    /// A DcsBackup in this namespace to restore; the restore waits until it has succeeded.
    /// Set exactly one of `backupRef` and `backupId`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_ref: Option<LocalObjectRef>,
    /// Id of an existing cloud backup of the instance to restore.
    /// Set exactly one of `backupRef` and `backupId`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 64))]
    #[x_kube(validation = Rule::new(BACKUP_ID_RULE).message(BACKUP_ID_MSG))]
    pub backup_id: Option<String>,
    /// Free-text note stored with the restore record (at most 80 characters). The operator
    /// appends a short marker that ties the cloud restore to this resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 80))]
    pub remark: Option<String>,
}

impl BackupResource for DcsRestore {
    const KIND_LABEL: &'static str = "dcsrestore";
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

    /// A restore owns nothing in the cloud, so deleting it never deletes anything there.
    fn deletion_policy(&self) -> DeletionPolicy {
        DeletionPolicy::Retain
    }

    fn status(&self) -> Option<&OperationStatus> {
        self.status.as_ref()
    }

    fn validate(&self) -> Result<(), String> {
        let spec = &self.spec;
        let mut checks = Checks::default();
        checks.common(&spec.instance_id, self.credentials_secret(), self.timeout());
        checks.require_spec(
            spec.backup_ref.is_some() != spec.backup_id.is_some(),
            EXACTLY_ONE_BACKUP_MSG,
        );
        if let Some(backup_ref) = &spec.backup_ref {
            checks.require(
                is_object_name(&backup_ref.name),
                "spec.backupRef.name",
                OBJECT_NAME_MSG,
            );
        }
        if let Some(backup_id) = &spec.backup_id {
            checks.require(is_cloud_id(backup_id), "spec.backupId", BACKUP_ID_MSG);
        }
        if let Some(remark) = &spec.remark {
            checks.max_len(remark, REMARK_MAX_LEN, "spec.remark");
        }
        checks.finish()
    }
}
