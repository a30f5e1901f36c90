//! `DdsRestore`: restore a DDS (MongoDB) instance in place, from a backup or to a point in time.

use std::time::Duration;

use kube::{CustomResource, KubeSchema};
use serde::{Deserialize, Serialize};

use super::{
    common::{DeletionPolicy, LocalObjectRef, OperationStatus, SecretRef},
    db_restore::db_restore_kind,
    resource::BackupResource,
    restore_rules::*,
    rules::*,
};

db_restore_kind! {
    kind: DdsRestore, spec: DdsRestoreSpec, kind_str: "DdsRestore", short: "ddsr", label: "ddsrestore",
    crd_doc: "An in-place restore of a Huawei Cloud / Open Telekom Cloud DDS (MongoDB) instance from a backup or to a point in time. It overwrites the instance's data. Deleting it never touches the cloud.",
    spec_doc: " Desired DDS restore. The whole spec is immutable once created.",
    backup_ref_doc: " A DdsBackup in this namespace to restore; the restore waits until it has succeeded.\n Set exactly one of `backupRef`, `backupId` and `restoreTime`."
}
