//! `DdsBackup` and `TaurusDbBackup` share one shape (instance, name, description): one definition
//! generates both, so the two CRDs cannot drift apart.

/// Defines a DDS-style backup kind: its spec, naming helpers and [`BackupResource`] impl.
macro_rules! db_backup_kind {
    (
        kind: $kind:ident, spec: $spec:ident, kind_str: $kind_str:tt, short: $short:tt, label: $label:tt,
        crd_doc: $crd_doc:tt, spec_doc: $spec_doc:tt, instance_doc: $instance_doc:tt, name_doc: $name_doc:tt,
        description_doc: $description_doc:tt, description_rule: $description_rule:ident,
        description_msg: $description_msg:ident, description_forbidden: $description_forbidden:ident
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
        pub struct $spec {
            #[doc = $instance_doc]
            #[schemars(length(max = 64))]
            #[x_kube(validation = Rule::new(INSTANCE_ID_RULE).message(INSTANCE_ID_MSG))]
            pub instance_id: String,
            /// Secret in this namespace with the cloud account; defaults to the operator's configured name.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub credentials_secret_ref: Option<SecretRef>,
            /// How long to wait for the backup before marking it Failed, e.g. `60m`, `1h30m`
            /// (units h, m, s; 1s to 168h). Default 60m.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            #[schemars(length(max = 16))]
            #[x_kube(validation = Rule::new(TIMEOUT_FORMAT_RULE).message(TIMEOUT_FORMAT_MSG))]
            #[x_kube(validation = Rule::new(TIMEOUT_RANGE_RULE).message(TIMEOUT_RANGE_MSG))]
            pub timeout: Option<String>,
            /// `Retain` keeps the cloud backup when this resource is deleted; `Delete` deletes it.
            #[serde(default)]
            pub deletion_policy: DeletionPolicy,
            #[doc = $name_doc]
            #[serde(default, skip_serializing_if = "Option::is_none")]
            #[schemars(length(max = 64))]
            #[x_kube(validation = Rule::new(BACKUP_NAME_RULE).message(BACKUP_NAME_MSG))]
            pub backup_name: Option<String>,
            #[doc = $description_doc]
            #[serde(default, skip_serializing_if = "Option::is_none")]
            #[schemars(length(max = 200))]
            #[x_kube(validation = Rule::new($description_rule).message($description_msg))]
            pub description: Option<String>,
        }

        impl $kind {
            /// The backup name used when `spec.backupName` is unset (see [`naming::default_backup_name`]).
            pub fn default_backup_name(&self) -> String {
                naming::default_backup_name(
                    self.metadata.namespace.as_deref(),
                    Some(&self.name_any()),
                    self.uid().as_deref(),
                )
            }

            /// `spec.backupName`, or the derived default.
            pub fn effective_backup_name(&self) -> String {
                self.spec
                    .backup_name
                    .clone()
                    .unwrap_or_else(|| self.default_backup_name())
            }
        }

        impl BackupResource for $kind {
            const KIND_LABEL: &'static str = $label;
            const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60 * 60);

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
                checks.db_backup(
                    spec.backup_name.as_deref(),
                    spec.description.as_deref(),
                    $description_forbidden,
                    $description_msg,
                );
                checks.finish()
            }
        }
    };
}

pub(crate) use db_backup_kind;
