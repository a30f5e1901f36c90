//! `DdsRestore` and `TaurusDbRestore` against the rules they meet at `kubectl apply`, the controller's
//! `validate()` reaching the same verdict, and random restore times on which CEL and Rust agree.

mod support;

use hwcloud_backup_operator::crd::{
    DdsRestore, TaurusDbRestore,
    restore_rules::{
        EXACTLY_ONE_SOURCE_MSG, RESTORE_TIME_MSG, SOURCE_INSTANCE_MSG, parse_restore_time,
    },
    rules::{self, max_len_msg},
};
use proptest::prelude::*;
use serde_json::{Value, json};
use support::cases::{Expect, check, common_cases, err};
use support::{apiserver_errors, object, schema_of};

fn restore_cases() -> Vec<(&'static str, Value, Expect)> {
    let no_id = |extra: Value| {
        let mut v = json!({"backupId": null});
        v.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        v
    };
    let mut cases = common_cases(false);
    cases.extend([
        (
            "by reference",
            no_id(json!({"backupRef": {"name": "nightly"}})),
            Expect::Valid,
        ),
        (
            "point in time",
            no_id(json!({"restoreTime": "2026-01-02T03:04:05Z"})),
            Expect::Valid,
        ),
        (
            "point in time with ms, offset and another source",
            no_id(json!({"restoreTime": "2026-01-02T04:04:05.250+01:00",
                "sourceInstanceId": "7e1c0c8f6f5b4d3aa1b2c3d4e5f6a7b8in02"})),
            Expect::Valid,
        ),
        (
            "backup and time",
            json!({"restoreTime": "2026-01-02T03:04:05Z"}),
            err("spec", EXACTLY_ONE_SOURCE_MSG),
        ),
        (
            "backup and reference",
            json!({"backupRef": {"name": "nightly"}}),
            err("spec", EXACTLY_ONE_SOURCE_MSG),
        ),
        (
            "no source",
            json!({"backupId": null}),
            err("spec", EXACTLY_ONE_SOURCE_MSG),
        ),
        (
            "source instance with a backup",
            json!({"sourceInstanceId": "other-in02"}),
            err("spec", SOURCE_INSTANCE_MSG),
        ),
        (
            "time without a zone",
            no_id(json!({"restoreTime": "2026-01-02T03:04:05"})),
            err("spec.restoreTime", RESTORE_TIME_MSG),
        ),
        (
            "date only",
            no_id(json!({"restoreTime": "2026-01-02"})),
            err("spec.restoreTime", RESTORE_TIME_MSG),
        ),
        (
            "time too long",
            no_id(json!({"restoreTime": "2026-01-02T03:04:05.1234567890123+01:00"})),
            err("spec.restoreTime", &max_len_msg(35)),
        ),
        (
            "bad source instance",
            no_id(json!({"restoreTime": "2026-01-02T03:04:05Z", "sourceInstanceId": "a b"})),
            err("spec.sourceInstanceId", rules::INSTANCE_ID_MSG),
        ),
        (
            "bad backup id",
            json!({"backupId": "b 1"}),
            err("spec.backupId", rules::BACKUP_ID_MSG),
        ),
        (
            "bad backup ref",
            no_id(json!({"backupRef": {"name": "Nightly!"}})),
            err("spec.backupRef.name", rules::OBJECT_NAME_MSG),
        ),
    ]);
    cases
}

#[test]
fn dds_restore() {
    let base = json!({"instanceId": "9136fd2a9fcd405ea4674276ce36dae8in02",
        "backupId": "2f0b4c1a9e8d4b7f8a6c5d4e3f2a1b0cbr02"});
    check::<DdsRestore>("DdsRestore", &base, &restore_cases());
}

#[test]
fn taurusdb_restore() {
    let base = json!({"instanceId": "9136fd2a9fcd405ea4674276ce36dae8in07",
        "backupId": "2f0b4c1a9e8d4b7f8a6c5d4e3f2a1b0cbr07"});
    check::<TaurusDbRestore>("TaurusDbRestore", &base, &restore_cases());
}

proptest! {
    /// The CEL pattern and the Rust parser agree on every shape; only a day the month lacks
    /// (`02-30`) passes CEL and is left to the controller.
    #[test]
    fn restore_times(
        y in 1990u32..2100, mo in 0u32..14, d in 0u32..32, h in 0u32..25, mi in 0u32..61, s in 0u32..61,
        frac in proptest::option::of("[0-9]{0,10}"),
        zone in prop_oneof![Just("Z".to_string()), Just("z".to_string()), Just(String::new()),
            (0u32..25, 0u32..61, any::<bool>()).prop_map(|(h, m, plus)| format!("{}{h:02}:{m:02}", if plus { '+' } else { '-' }))],
    ) {
        let frac = frac.map(|f| format!(".{f}")).unwrap_or_default();
        let raw = format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}{frac}{zone}");
        let spec = json!({"instanceId": "i-in02", "restoreTime": raw});
        let api = apiserver_errors(&schema_of("DdsRestore"), &object("DdsRestore", spec), None);
        let cel_ok = api.is_empty();
        let rust_ok = parse_restore_time(&raw).is_some();
        let impossible_day = d > 28 && (mo == 2 || (d == 31 && [4, 6, 9, 11].contains(&mo)));
        if impossible_day && (1..=12).contains(&mo) {
            prop_assert!(!rust_ok, "{raw}");
        } else {
            prop_assert_eq!(cel_ok, rust_ok, "{} {:?}", raw, api);
        }
    }
}

#[test]
fn the_restore_examples_pass_every_rule() {
    for (file, kind) in [
        ("ddsrestore.yaml", "DdsRestore"),
        ("taurusdbrestore.yaml", "TaurusDbRestore"),
    ] {
        let path = format!("{}/examples/{file}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap();
        let obj: Value = serde_saphyr::from_str(&text).unwrap();
        let api = apiserver_errors(&schema_of(kind), &obj, None);
        assert!(api.is_empty(), "{file}: {api:?}");
        let rust = match kind {
            "DdsRestore" => support::rust_errors::<DdsRestore>(&obj),
            _ => support::rust_errors::<TaurusDbRestore>(&obj),
        };
        assert_eq!(rust, Some(vec![]), "{file}");
    }
}
