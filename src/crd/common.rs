//! Types shared by all four kinds: phase, deletion policy, object references and the one status.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::KubeSchema;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::rules::{OBJECT_NAME_MSG, OBJECT_NAME_RULE};

/// Pending, Running, Succeeded or Failed. Succeeded and Failed are final: they never change again.
// `.status.phase` is optional, and an optional enum's schema takes this type doc, not the field's.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Phase {
    /// Accepted; the cloud call has not been made yet (or is waiting for its turn on the instance).
    Pending,
    /// The cloud accepted the operation and it is in progress.
    Running,
    /// The cloud reported success.
    Succeeded,
    /// The operation failed or timed out; `message` and the `Ready` condition say why.
    Failed,
}

impl Phase {
    /// Whether the phase is final (`Succeeded` or `Failed`).
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed)
    }

    /// The phase as written in `.status.phase`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "Pending",
            Self::Running => "Running",
            Self::Succeeded => "Succeeded",
            Self::Failed => "Failed",
        }
    }
}

/// What happens to the cloud backup when the Kubernetes resource is deleted.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum DeletionPolicy {
    /// Keep the cloud backup (default).
    #[default]
    Retain,
    /// Delete the cloud backup too; a backup already gone in the cloud counts as deleted.
    Delete,
}

/// A Secret in the resource's own namespace.
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq, Eq)]
pub struct SecretRef {
    /// Name of the Secret holding the cloud account (`accessKey`/`secretKey` or
    /// `username`/`password`/`domainName`, plus `region` and optional `projectId`).
    #[schemars(length(max = 253))]
    #[x_kube(validation = Rule::new(OBJECT_NAME_RULE).message(OBJECT_NAME_MSG))]
    pub name: String,
}

/// Another object of the same namespace.
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq, Eq)]
pub struct LocalObjectRef {
    /// Name of the object in the resource's own namespace.
    #[schemars(length(max = 253))]
    #[x_kube(validation = Rule::new(OBJECT_NAME_RULE).message(OBJECT_NAME_MSG))]
    pub name: String,
}

/// Observed state of a backup or restore, the same shape for every kind.
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct OperationStatus {
    /// Where the operation stands (see [`Phase`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<Phase>,
    /// Id of the cloud backup (DcsBackup, DdsBackup, TaurusDbBackup; for a restore, the backup restored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_id: Option<String>,
    /// Id of the cloud restore record (DcsRestore).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore_id: Option<String>,
    /// Id of the cloud job that runs the backup or restore (DDS, TaurusDB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
    /// The point in time a restore restores to (DdsRestore, TaurusDbRestore with `restoreTime`), in
    /// UTC with the milliseconds the cloud takes, e.g. `2026-01-02T03:04:05.25Z`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore_time: Option<String>,
    /// The status string the cloud last reported, unchanged (e.g. `backuping`, `Running`, `COMPLETED`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud_status: Option<String>,
    /// Progress in percent (0-100) when the cloud reports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<f64>,
    /// When the cloud accepted the operation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<Time>,
    /// When the operation reached a final phase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<Time>,
    /// Size of the backup in bytes (normalised from the cloud's bytes, KB or MB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_bytes: Option<i64>,
    /// The same size for people, in binary units (`5.0 MiB`): what `kubectl get` shows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<String>,
    /// Human-readable detail on the current phase, e.g. why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Set just before the cloud create call and cleared once its ids are recorded. If it is set
    /// while no id is, the operator crashed mid-create and looks for the cloud object by its marker
    /// before creating another.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_requested_at: Option<Time>,
    /// Set while the cloud's answers do not list the running operation: since when, and how many
    /// answers in a row. One missing answer never fails a resource; several in a row spread over a
    /// minute do. Cleared by the next answer that lists it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_listed: Option<NotListed>,
    /// Standard conditions, keyed by type. `Ready` is True once the operation succeeded; its
    /// reason says what is happening (Creating, InProgress, Succeeded, CloudError, Throttled,
    /// InstanceBusy, Timeout, InvalidSpec, CredentialsError; restores also WaitingForBackup and
    /// BackupUnusable, DDS/TaurusDB restores InvalidRestoreTime and RestoreOutcomeUnknown).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["type".into()]))]
    pub conditions: Vec<Condition>,
    /// The `metadata.generation` this status was computed from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}

/// Answers in a row that did not list a running operation.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct NotListed {
    /// The first of these answers.
    pub since: Time,
    /// How many answers in a row did not list it.
    pub count: i32,
}

impl OperationStatus {
    /// Whether the recorded phase is final.
    pub fn is_terminal(&self) -> bool {
        self.phase.is_some_and(Phase::is_terminal)
    }

    /// Records the size the cloud reported (bytes), and the same for people; `None` keeps both.
    pub fn set_size(&mut self, bytes: Option<i64>) {
        if let Some(bytes) = bytes {
            self.size_bytes = Some(bytes);
            self.size = Some(human_size(bytes));
        }
    }
}

/// `bytes` in the largest binary unit that keeps the number below 1024, with one decimal
/// (`512 B`, `5.0 MiB`, `1.5 GiB`).
pub fn human_size(bytes: i64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value.abs() >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    // Rounding may reach 1024.0 (e.g. 1 MiB less one byte): that is the next unit's 1.0.
    if unit > 0 && (value * 10.0).round() / 10.0 >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    match unit {
        0 => format!("{bytes} B"),
        _ => format!("{value:.1} {}", UNITS[unit]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn phase_serialises_as_its_name_and_knows_terminal() {
        for (phase, terminal) in [
            (Phase::Pending, false),
            (Phase::Running, false),
            (Phase::Succeeded, true),
            (Phase::Failed, true),
        ] {
            assert_eq!(serde_json::to_value(phase).unwrap(), json!(phase.as_str()));
            assert_eq!(phase.is_terminal(), terminal);
        }
    }

    #[test]
    fn deletion_policy_defaults_to_retain() {
        assert_eq!(DeletionPolicy::default(), DeletionPolicy::Retain);
        assert_eq!(
            serde_json::to_value(DeletionPolicy::Delete).unwrap(),
            json!("Delete")
        );
    }

    #[test]
    fn sizes_read_in_binary_units() {
        for (bytes, shown) in [
            (0, "0 B"),
            (512, "512 B"),
            (1023, "1023 B"),
            (1024, "1.0 KiB"),
            (5 * 1024 * 1024, "5.0 MiB"),
            (1024 * 1024 - 1, "1.0 MiB"),
            (3 * 1024 * 1024 * 1024 / 2, "1.5 GiB"),
            // Beyond the largest unit the number just grows.
            (i64::MAX, "8192.0 PiB"),
        ] {
            assert_eq!(human_size(bytes), shown, "{bytes}");
        }
        let mut s = OperationStatus::default();
        s.set_size(None);
        assert_eq!((s.size_bytes, s.size.as_deref()), (None, None));
        s.set_size(Some(2048));
        assert_eq!(
            (s.size_bytes, s.size.as_deref()),
            (Some(2048), Some("2.0 KiB"))
        );
        s.set_size(None);
        assert_eq!(
            s.size.as_deref(),
            Some("2.0 KiB"),
            "kept when the cloud says nothing"
        );
    }

    #[test]
    fn empty_status_serialises_to_an_empty_object() {
        assert_eq!(
            serde_json::to_value(OperationStatus::default()).unwrap(),
            json!({})
        );
        assert!(!OperationStatus::default().is_terminal());
    }

    #[test]
    fn status_uses_camel_case_and_round_trips() {
        let status: OperationStatus = serde_json::from_value(json!({
            "phase": "Running",
            "backupId": "b-1",
            "jobId": "j-1",
            "cloudStatus": "backuping",
            "progress": 42.5,
            "startedAt": "2025-01-02T03:04:05Z",
            "sizeBytes": 1024,
            "createRequestedAt": "2025-01-02T03:04:00Z",
            "observedGeneration": 1,
            "conditions": [{"type": "Ready", "status": "False", "reason": "InProgress", "message": "",
                             "lastTransitionTime": "2025-01-02T03:04:05Z"}]
        }))
        .unwrap();
        assert_eq!(status.phase, Some(Phase::Running));
        assert_eq!(status.size_bytes, Some(1024));
        assert_eq!(status.conditions[0].reason, "InProgress");
        let back = serde_json::to_value(&status).unwrap();
        assert_eq!(back["createRequestedAt"], json!("2025-01-02T03:04:00Z"));
        assert_eq!(back["cloudStatus"], json!("backuping"));
        assert!(back.get("restoreId").is_none());
    }
}
