//! `DdsRestore` and `TaurusDbRestore` share one shape (target instance; a backup resource, a cloud
//! backup or a point in time): one definition generates both, so the two CRDs cannot drift apart.
//!
//! Neither restore API takes a remark or description, so these kinds have no `remark` field: a note
//! would be stored nowhere in the cloud, and the resource's own annotations serve that purpose.

/// Defines a DDS-style restore kind: its spec and [`BackupResource`] impl.
macro_rules! db_restore_kind {
    (
        kind: $kind:ident, spec: $spec:ident, kind_str: $kind_str:tt, short: $short:tt, label: $label:tt,
        crd_doc: $crd_doc:tt, spec_doc: $spec_doc:tt, backup_ref_doc: $backup_ref_doc:tt
    ) => {
        #[doc = $spec_doc]
        // Repeated `printcolumn(type_ = "string", ..)` entries are distinct columns, not duplicates.
        #[allow(clippy::duplicated_attributes)]
        #[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
        #[kube(
            group = "backup.hwcloud.dev",
            version = "v1alpha1",
            kind = $kind_str,
            namespaced,
            status = "OperationStatus",
            shortname = $short,
            category = "hwcloud",
            cel,
            doc = $crd_doc,
            printcolumn(name = "Phase", type_ = "string", json_path = ".status.phase"),
            printcolumn(name = "Instance", type_ = "string", json_path = ".spec.instanceId"),
            printcolumn(
                name = "BackupID",
                type_ = "string",
                json_path = ".status.backupId",
                description = "the backup restored"
            ),
            printcolumn(
                name = "RestoreTime",
                type_ = "string",
                json_path = ".status.restoreTime",
                description = "the point in time restored to"
            ),
            printcolumn(
                name = "JobID",
                type_ = "string",
                json_path = ".status.jobId",
                description = "the cloud job that runs the restore",
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
        #[x_kube(validation = Rule::new(EXACTLY_ONE_SOURCE_RULE).message(EXACTLY_ONE_SOURCE_MSG))]
        #[x_kube(validation = Rule::new(SOURCE_INSTANCE_RULE).message(SOURCE_INSTANCE_MSG))]
        pub struct $spec {
            /// Id of the instance restored INTO. Its data is overwritten.
            #[schemars(length(max = 64))]
            #[x_kube(validation = Rule::new(INSTANCE_ID_RULE).message(INSTANCE_ID_MSG))]
            pub instance_id: String,
            /// Secret in this namespace with the cloud account; defaults to the operator's configured name.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub credentials_secret_ref: Option<SecretRef>,
            /// How long to wait for the restore before marking it Failed, e.g. `2h`, `90m`
            /// (units h, m, s; 1s to 168h). Default 2h. Counted from when the cloud accepted the
            /// restore; waiting for a referenced backup does not count.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            #[schemars(length(max = 16))]
            #[x_kube(validation = Rule::new(TIMEOUT_FORMAT_RULE).message(TIMEOUT_FORMAT_MSG))]
            #[x_kube(validation = Rule::new(TIMEOUT_RANGE_RULE).message(TIMEOUT_RANGE_MSG))]
            pub timeout: Option<String>,
            #[doc = $backup_ref_doc]
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub backup_ref: Option<LocalObjectRef>,
            /// Id of a cloud backup of the instance to restore.
            /// Set exactly one of `backupRef`, `backupId` and `restoreTime`.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            #[schemars(length(max = 64))]
            #[x_kube(validation = Rule::new(BACKUP_ID_RULE).message(BACKUP_ID_MSG))]
            pub backup_id: Option<String>,
            /// Point in time to restore to (RFC 3339, e.g. `2026-01-02T03:04:05Z`; milliseconds are
            /// kept). It must lie in a restorable window the cloud reports for that day (UTC).
            /// Set exactly one of `backupRef`, `backupId` and `restoreTime`.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            #[schemars(length(max = 35))]
            #[x_kube(validation = Rule::new(RESTORE_TIME_RULE).message(RESTORE_TIME_MSG))]
            pub restore_time: Option<String>,
            /// With `restoreTime` only: the instance whose data at that time is restored. Default:
            /// `instanceId` (the instance's own past).
            #[serde(default, skip_serializing_if = "Option::is_none")]
            #[schemars(length(max = 64))]
            #[x_kube(validation = Rule::new(INSTANCE_ID_RULE).message(INSTANCE_ID_MSG))]
            pub source_instance_id: Option<String>,
        }

        impl $kind {
            /// The spec's source fields, for the checks shared with the other restore kind.
            pub fn source(&self) -> RestoreSource<'_> {
                let s = &self.spec;
                RestoreSource {
                    backup_ref: s.backup_ref.as_ref().map(|r| r.name.as_str()),
                    backup_id: s.backup_id.as_deref(),
                    restore_time: s.restore_time.as_deref(),
                    source_instance_id: s.source_instance_id.as_deref(),
                }
            }
        }

        impl BackupResource for $kind {
            const KIND_LABEL: &'static str = $label;
            const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2 * 60 * 60);

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
                let mut checks = Checks::default();
                checks.common(&self.spec.instance_id, self.credentials_secret(), self.timeout());
                checks.db_restore(&self.source());
                checks.finish()
            }
        }
    };
}

pub(crate) use db_restore_kind;
