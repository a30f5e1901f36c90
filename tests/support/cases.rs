//! The cases runner of the CRD validation tests: each case's expectation, checked against the
//! apiserver's view (schema and CEL) and the controller's `validate()`, and the cases every kind shares.

use hwcloud_backup_operator::crd::{
    BackupResource,
    rules::{self, max_len_msg},
};
use serde_json::{Value, json};

use super::{apiserver_errors, object, patched, rust_errors, schema_of};

/// What a case expects.
pub enum Expect {
    /// Accepted everywhere.
    Valid,
    /// Rejected by the schema/CEL with this `"<path>: <message>"`, and by `validate()` with the same.
    Invalid(String),
    /// Rejected by the schema with this message; the typed object cannot even be deserialized,
    /// so the controller never sees it as a spec.
    Undecodable(&'static str),
}

pub fn err(path: &str, message: &str) -> Expect {
    Expect::Invalid(format!("{path}: {message}"))
}

pub fn check<K: BackupResource>(kind: &str, base: &Value, cases: &[(&str, Value, Expect)]) {
    let schema = schema_of(kind);
    for (label, patch, expect) in cases {
        let obj = object(kind, patched(base, patch));
        let api = apiserver_errors(&schema, &obj, None);
        let rust = rust_errors::<K>(&obj);
        match expect {
            Expect::Valid => {
                assert!(api.is_empty(), "{kind} {label}: apiserver rejects: {api:?}");
                assert_eq!(rust, Some(vec![]), "{kind} {label}: validate()");
            }
            Expect::Invalid(message) => {
                assert!(
                    api.contains(message),
                    "{kind} {label}: want {message:?}, apiserver says {api:?}"
                );
                let rust = rust.unwrap_or_else(|| panic!("{kind} {label}: does not deserialize"));
                assert!(
                    rust.contains(message),
                    "{kind} {label}: want {message:?}, validate() says {rust:?}"
                );
                // validate() never invents an error the apiserver would not report.
                for e in &rust {
                    assert!(
                        api.contains(e),
                        "{kind} {label}: validate() says {e:?}, apiserver only {api:?}"
                    );
                }
            }
            Expect::Undecodable(needle) => {
                assert!(
                    api.iter().any(|e| e.contains(needle)),
                    "{kind} {label}: want {needle:?}, got {api:?}"
                );
                assert_eq!(rust, None, "{kind} {label}: should not deserialize");
            }
        }
    }
}

/// Cases every kind shares; `base` must be valid.
pub fn common_cases(backup_kind: bool) -> Vec<(&'static str, Value, Expect)> {
    let mut cases = vec![
        ("minimal", json!({}), Expect::Valid),
        (
            "with secret and timeout",
            json!({"credentialsSecretRef": {"name": "cloud-creds.v1"}, "timeout": "1h30m"}),
            Expect::Valid,
        ),
        (
            "uuid instance id",
            json!({"instanceId": "a1b2c3d4-0000-4000-8000-123456789abc"}),
            Expect::Valid,
        ),
        (
            "longest instance id",
            json!({"instanceId": "a".repeat(64)}),
            Expect::Valid,
        ),
        ("timeout 1s", json!({"timeout": "1s"}), Expect::Valid),
        ("timeout 168h", json!({"timeout": "168h"}), Expect::Valid),
        (
            "no instance id",
            json!({"instanceId": null}),
            Expect::Undecodable("spec.instanceId: Required value"),
        ),
        (
            "empty instance id",
            json!({"instanceId": ""}),
            err("spec.instanceId", rules::INSTANCE_ID_MSG),
        ),
        (
            "instance id with space",
            json!({"instanceId": "abc def"}),
            err("spec.instanceId", rules::INSTANCE_ID_MSG),
        ),
        (
            "instance id with slash",
            json!({"instanceId": "../x"}),
            err("spec.instanceId", rules::INSTANCE_ID_MSG),
        ),
        (
            "instance id too long",
            json!({"instanceId": "a".repeat(65)}),
            err("spec.instanceId", rules::INSTANCE_ID_MSG),
        ),
        (
            "secret name uppercase",
            json!({"credentialsSecretRef": {"name": "Creds"}}),
            err("spec.credentialsSecretRef.name", rules::OBJECT_NAME_MSG),
        ),
        (
            "secret name empty",
            json!({"credentialsSecretRef": {"name": ""}}),
            err("spec.credentialsSecretRef.name", rules::OBJECT_NAME_MSG),
        ),
        (
            "secret ref without name",
            json!({"credentialsSecretRef": {}}),
            Expect::Undecodable("spec.credentialsSecretRef.name: Required value"),
        ),
        (
            "timeout without unit",
            json!({"timeout": "30"}),
            err("spec.timeout", rules::TIMEOUT_FORMAT_MSG),
        ),
        (
            "timeout fraction",
            json!({"timeout": "1.5h"}),
            err("spec.timeout", rules::TIMEOUT_FORMAT_MSG),
        ),
        (
            "timeout days",
            json!({"timeout": "1d"}),
            err("spec.timeout", rules::TIMEOUT_FORMAT_MSG),
        ),
        (
            "timeout ms",
            json!({"timeout": "300ms"}),
            err("spec.timeout", rules::TIMEOUT_FORMAT_MSG),
        ),
        (
            "timeout zero",
            json!({"timeout": "0s"}),
            err("spec.timeout", rules::TIMEOUT_RANGE_MSG),
        ),
        (
            "timeout too long",
            json!({"timeout": "169h"}),
            err("spec.timeout", rules::TIMEOUT_RANGE_MSG),
        ),
        (
            "timeout 7 digits",
            json!({"timeout": "1000000s"}),
            err("spec.timeout", rules::TIMEOUT_FORMAT_MSG),
        ),
        (
            "timeout over 16 chars",
            json!({"timeout": "1h1h1h1h1h1h1h1h1h"}),
            err("spec.timeout", &max_len_msg(16)),
        ),
    ];
    if backup_kind {
        cases.extend([
            (
                "delete policy",
                json!({"deletionPolicy": "Delete"}),
                Expect::Valid,
            ),
            (
                "retain policy",
                json!({"deletionPolicy": "Retain"}),
                Expect::Valid,
            ),
            (
                "unknown policy",
                json!({"deletionPolicy": "Forever"}),
                Expect::Undecodable("spec.deletionPolicy: Unsupported value"),
            ),
        ]);
    }
    cases
}
