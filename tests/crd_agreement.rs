//! Random field values: the CRD's rules (CEL + schema) and the Rust `validate()` always agree.

mod support;

use hwcloud_backup_operator::crd::{BackupResource, DcsRestore, DdsBackup, TaurusDbBackup};
use proptest::prelude::*;
use serde_json::{Value, json};
use support::{apiserver_errors, object, rust_errors, schema_of};

/// Both reject or both accept, and every Rust error is one the apiserver reports too.
fn agree<K: BackupResource>(kind: &str, spec: Value) -> Result<(), TestCaseError> {
    let obj = object(kind, spec);
    let api = apiserver_errors(&schema_of(kind), &obj, None);
    let rust = rust_errors::<K>(&obj).ok_or_else(|| TestCaseError::fail("does not deserialize"))?;
    prop_assert_eq!(
        api.is_empty(),
        rust.is_empty(),
        "apiserver {:?} vs validate() {:?}",
        api,
        rust
    );
    for e in &rust {
        prop_assert!(
            api.contains(e),
            "validate() says {:?}, apiserver {:?}",
            e,
            api
        );
    }
    Ok(())
}

/// Strings of up to `max` characters, mostly from `usual`, with one of `odd` now and then, so
/// that valid values, near misses and plain garbage all turn up.
fn text(usual: &'static str, odd: &'static str, max: usize) -> impl Strategy<Value = String> {
    let pick = |s: &str| proptest::sample::select(s.chars().collect::<Vec<_>>());
    let char = prop_oneof![30 => pick(usual), 1 => pick(odd)];
    proptest::collection::vec(char, 0..=max).prop_map(|v| v.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn instance_ids(id in text("abcXYZ019-", "_ ./é", 70)) {
        agree::<DdsBackup>("DdsBackup", json!({"instanceId": id}))?;
    }

    #[test]
    fn secret_names(name in text("az09-.", "A_ ", 24)) {
        agree::<DdsBackup>("DdsBackup", json!({"instanceId": "i", "credentialsSecretRef": {"name": name}}))?;
    }

    #[test]
    fn timeouts(timeout in text("0123456789hms", ".d-", 18)) {
        agree::<DdsBackup>("DdsBackup", json!({"instanceId": "i", "timeout": timeout}))?;
    }

    #[test]
    fn timeouts_well_formed(groups in proptest::collection::vec((0u32..2_000_000, proptest::sample::select(vec!['h', 'm', 's'])), 1..4)) {
        let timeout: String = groups.iter().map(|(n, u)| format!("{n}{u}")).collect();
        agree::<DdsBackup>("DdsBackup", json!({"instanceId": "i", "timeout": timeout}))?;
    }

    #[test]
    fn backup_names(name in text("abcXYZ019-_", " .ü", 70)) {
        agree::<DdsBackup>("DdsBackup", json!({"instanceId": "i", "backupName": name}))?;
    }

    #[test]
    fn descriptions(description in text("ab ,.()é\t", ">!<\"&'=\r\n", 260)) {
        agree::<DdsBackup>("DdsBackup", json!({"instanceId": "i", "description": description}))?;
    }

    #[test]
    fn taurus_descriptions(description in text("ab ,.()é\t", ">!<\"&'=\r\n", 260)) {
        agree::<TaurusDbBackup>("TaurusDbBackup", json!({"instanceId": "i", "description": description}))?;
    }

    #[test]
    fn restore_sources(id in proptest::option::of(text("a9-", " _", 66)), name in proptest::option::of(text("a9-.", "A", 10))) {
        let mut spec = json!({"instanceId": "i"});
        if let Some(id) = id { spec["backupId"] = json!(id); }
        if let Some(name) = name { spec["backupRef"] = json!({"name": name}); }
        agree::<DcsRestore>("DcsRestore", spec)?;
    }
}
