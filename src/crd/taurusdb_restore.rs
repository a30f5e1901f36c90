//! `TaurusDbRestore`: restore a TaurusDB (formerly GaussDB for MySQL) instance in place, from a backup
//! or to a point in time. Huawei Cloud documents the in-place restore; Open Telekom Cloud does not.

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
    kind: TaurusDbRestore, spec: TaurusDbRestoreSpec, kind_str: "TaurusDbRestore", short: "tdbr", label: "taurusdbrestore",
    crd_doc: "An in-place restore of a Huawei Cloud TaurusDB (formerly GaussDB for MySQL) instance from a backup or to a point in time. It overwrites the instance's data. Open Telekom Cloud does not document this API. Deleting it never touches the cloud.",
    spec_doc: " Desired TaurusDB restore. The whole spec is immutable once created.",
    backup_ref_doc: " A TaurusDbBackup in this namespace to restore; the restore waits until it has succeeded.\n Set exactly one of `backupRef`, `backupId` and `restoreTime`."
}
