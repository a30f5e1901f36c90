//! `DdsBackup`: one manual backup of a DDS (document database, MongoDB) instance.

use std::time::Duration;

use kube::{CustomResource, KubeSchema, ResourceExt};
use serde::{Deserialize, Serialize};

use super::{
    common::{DeletionPolicy, OperationStatus, SecretRef},
    db_backup::db_backup_kind,
    naming,
    resource::BackupResource,
    rules::*,
};

db_backup_kind! {
    kind: DdsBackup, spec: DdsBackupSpec, kind_str: "DdsBackup", short: "ddsb", label: "ddsbackup",
    crd_doc: "A manual backup of a Huawei Cloud / Open Telekom Cloud DDS (MongoDB) instance.",
    spec_doc: " Desired DDS backup. The whole spec is immutable once created.",
    instance_doc: " Id of the DDS instance to back up.",
    name_doc: " Name of the cloud backup, unique in the project: 4-64 characters, starting with a letter,\nthen letters, digits, `-` and `_`. Default: `k8s-<namespace>-<name>-<first 8 of uid>`.",
    description_doc: " Description stored with the backup: at most 200 characters (the operator appends a marker; the cloud allows 256), none of `> ! < \" & ' =`.",
    description_rule: DESCRIPTION_RULE, description_msg: DESCRIPTION_MSG, description_forbidden: DESCRIPTION_FORBIDDEN
}
