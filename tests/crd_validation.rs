//! Each kind against the rules it will meet at `kubectl apply`: good specs pass, each kind of bad
//! input is rejected with its message, and the controller's Rust `validate()` reaches the same verdict.

mod support;

use hwcloud_backup_operator::crd::{
    DcsBackup, DcsRestore, DdsBackup, TaurusDbBackup,
    rules::{self, max_len_msg},
};
use serde_json::{Value, json};
use support::cases::{Expect, check, common_cases, err};

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
