//! `TaurusDbBackup`: one manual backup of a TaurusDB (formerly GaussDB for MySQL) instance.

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
    kind: TaurusDbBackup, spec: TaurusDbBackupSpec, kind_str: "TaurusDbBackup", short: "tdbb", label: "taurusdbbackup",
    crd_doc: "A manual backup of a Huawei Cloud / Open Telekom Cloud TaurusDB (formerly GaussDB for MySQL) instance.",
    spec_doc: " Desired TaurusDB backup. The whole spec is immutable once created.",
    instance_doc: " Id of the TaurusDB instance to back up.",
    name_doc: " Name of the cloud backup: 4-64 characters, starting with a letter,\nthen letters, digits, `-` and `_`. Default: `k8s-<namespace>-<name>-<first 8 of uid>`.",
    description_doc: " Description stored with the backup: at most 200 characters (the operator appends a marker; the cloud allows 256), none of `> ! < \" & ' =` and no line breaks (TaurusDB refuses carriage returns).",
    description_rule: TAURUS_DESCRIPTION_RULE, description_msg: TAURUS_DESCRIPTION_MSG, description_forbidden: TAURUS_DESCRIPTION_FORBIDDEN
}
