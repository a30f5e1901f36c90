//! Each kind against the rules it will meet at `kubectl apply`: good specs pass, each kind of bad
//! input is rejected with its message, and the controller's Rust `validate()` reaches the same verdict.

mod support;

use hwcloud_backup_operator::crd::{
    BackupResource, DcsBackup, DcsRestore, DdsBackup, TaurusDbBackup,
    rules::{self, max_len_msg},
};
use serde_json::{Value, json};
use support::{apiserver_errors, object, patched, rust_errors, schema_of};

/// What a case expects.
enum Expect {
    /// Accepted everywhere.
    Valid,
    /// Rejected by the schema/CEL with this `"<path>: <message>"`, and by `validate()` with the same.
    Invalid(String),
    /// Rejected by the schema with this message; the typed object cannot even be deserialized,
    /// so the controller never sees it as a spec.
    Undecodable(&'static str),
}

fn err(path: &str, message: &str) -> Expect {
    Expect::Invalid(format!("{path}: {message}"))
}

fn check<K: BackupResource>(kind: &str, base: &Value, cases: &[(&str, Value, Expect)]) {
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
fn common_cases(backup_kind: bool) -> Vec<(&'static str, Value, Expect)> {
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

#[test]
fn dcs_backup() {
    let base = json!({"instanceId": "a1b2c3d4-0000-4000-8000-123456789abc"});
    let mut cases = common_cases(true);
    cases.extend([
        (
            "remark and format",
            json!({"remark": "before upgrade", "backupFormat": "aof"}),
            Expect::Valid,
        ),
        ("rdb", json!({"backupFormat": "rdb"}), Expect::Valid),
        (
            "longest remark",
            json!({"remark": "r".repeat(80)}),
            Expect::Valid,
        ),
        (
            "remark too long",
            json!({"remark": "r".repeat(81)}),
            err("spec.remark", &max_len_msg(80)),
        ),
        (
            "unknown format",
            json!({"backupFormat": "zip"}),
            Expect::Undecodable("spec.backupFormat: Unsupported value"),
        ),
    ]);
    check::<DcsBackup>("DcsBackup", &base, &cases);
}

#[test]
fn dcs_restore() {
    let base = json!({"instanceId": "a1b2c3d4-0000-4000-8000-123456789abc", "backupId": "b1b2c3d4-0000-4000-8000-123456789abc"});
    let by_ref = json!({"backupId": null, "backupRef": {"name": "nightly"}});
    let mut cases = common_cases(false);
    cases.extend([
        ("by reference", by_ref, Expect::Valid),
        (
            "with remark",
            json!({"remark": "r".repeat(80)}),
            Expect::Valid,
        ),
        (
            "both",
            json!({"backupRef": {"name": "nightly"}}),
            err("spec", rules::EXACTLY_ONE_BACKUP_MSG),
        ),
        (
            "neither",
            json!({"backupId": null}),
            err("spec", rules::EXACTLY_ONE_BACKUP_MSG),
        ),
        (
            "bad backup id",
            json!({"backupId": "b 1"}),
            err("spec.backupId", rules::BACKUP_ID_MSG),
        ),
        (
            "empty backup id",
            json!({"backupId": ""}),
            err("spec.backupId", rules::BACKUP_ID_MSG),
        ),
        (
            "bad backup ref",
            json!({"backupId": null, "backupRef": {"name": "Nightly!"}}),
            err("spec.backupRef.name", rules::OBJECT_NAME_MSG),
        ),
        (
            "remark too long",
            json!({"remark": "r".repeat(81)}),
            err("spec.remark", &max_len_msg(80)),
        ),
    ]);
    check::<DcsRestore>("DcsRestore", &base, &cases);
}

/// Cases of DdsBackup and TaurusDbBackup; `description_msg` is the kind's description rule.
fn db_backup_cases(description_msg: &str) -> Vec<(&'static str, Value, Expect)> {
    let mut cases = common_cases(true);
    cases.extend([
        (
            "name and description",
            json!({"backupName": "nightly_01-x", "description": "before upgrade (v2), ok?"}),
            Expect::Valid,
        ),
        (
            "shortest name",
            json!({"backupName": "abcd"}),
            Expect::Valid,
        ),
        (
            "longest name",
            json!({"backupName": format!("a{}", "b".repeat(63))}),
            Expect::Valid,
        ),
        (
            "longest description",
            json!({"description": "d".repeat(200)}),
            Expect::Valid,
        ),
        (
            "name too short",
            json!({"backupName": "abc"}),
            err("spec.backupName", rules::BACKUP_NAME_MSG),
        ),
        (
            "name starts with digit",
            json!({"backupName": "1abc"}),
            err("spec.backupName", rules::BACKUP_NAME_MSG),
        ),
        (
            "name with dot",
            json!({"backupName": "abc.d"}),
            err("spec.backupName", rules::BACKUP_NAME_MSG),
        ),
        (
            "name too long",
            json!({"backupName": format!("a{}", "b".repeat(64))}),
            err("spec.backupName", rules::BACKUP_NAME_MSG),
        ),
        (
            "description with =",
            json!({"description": "a=b"}),
            err("spec.description", description_msg),
        ),
        (
            "description with quote",
            json!({"description": "it's"}),
            err("spec.description", description_msg),
        ),
        (
            "description with <",
            json!({"description": "<b>"}),
            err("spec.description", description_msg),
        ),
        (
            "description too long",
            json!({"description": "d".repeat(201)}),
            err("spec.description", &max_len_msg(200)),
        ),
    ]);
    cases
}

#[test]
fn dds_backup() {
    check::<DdsBackup>(
        "DdsBackup",
        &json!({"instanceId": "9136fd2a9fcd405ea4674276ce36dae8in02"}),
        &db_backup_cases(rules::DESCRIPTION_MSG),
    );
}

#[test]
fn taurusdb_backup() {
    check::<TaurusDbBackup>(
        "TaurusDbBackup",
        &json!({"instanceId": "9136fd2a9fcd405ea4674276ce36dae8in07"}),
        &db_backup_cases(rules::TAURUS_DESCRIPTION_MSG),
    );
}

/// TaurusDB refuses a description with a carriage return (cloud-apis.md A.4); a line feed is the
/// same key press in most editors, so both are refused at apply time and by `validate()`. DDS
/// documents no such rule, so a DdsBackup keeps accepting them.
#[test]
fn taurusdb_description_with_a_carriage_return_is_refused() {
    let line_break = rules::TAURUS_DESCRIPTION_MSG;
    let base = json!({"instanceId": "9136fd2a9fcd405ea4674276ce36dae8in07"});
    check::<TaurusDbBackup>(
        "TaurusDbBackup",
        &base,
        &[
            (
                "carriage return",
                json!({"description": "before\rupgrade"}),
                err("spec.description", line_break),
            ),
            (
                "CRLF",
                json!({"description": "before\r\nupgrade"}),
                err("spec.description", line_break),
            ),
            (
                "line feed",
                json!({"description": "before\nupgrade"}),
                err("spec.description", line_break),
            ),
            (
                "forbidden character",
                json!({"description": "a=b"}),
                err("spec.description", line_break),
            ),
            (
                "tab and unicode",
                json!({"description": "before\tupgrade é"}),
                Expect::Valid,
            ),
        ],
    );
    check::<DdsBackup>(
        "DdsBackup",
        &json!({"instanceId": "9136fd2a9fcd405ea4674276ce36dae8in02"}),
        &[(
            "line break",
            json!({"description": "before\r\nupgrade"}),
            Expect::Valid,
        )],
    );
}
