//! The `BackupSchedule` CRD: its columns and defaults, its rules at `kubectl apply` (kube's client-side
//! CEL plus the schema keywords) against the controller's `validate()`, the editable spec with a fixed
//! template kind, and property tests that the schedule and time zone rules agree with their Rust twins.

mod support;

use hwcloud_backup_operator::crd::BackupSchedule;
use hwcloud_backup_operator::crd::rules::{
    BACKUP_NAME_MSG, INSTANCE_ID_MSG, TIMEOUT_FORMAT_MSG, TIMEOUT_RANGE_MSG,
};
use hwcloud_backup_operator::crd::schedule_rules::*;
use proptest::prelude::*;
use serde_json::{Value, json};
use support::{apiserver_errors, object, patched, schema_of};

const KIND: &str = "BackupSchedule";

fn base() -> Value {
    json!({"schedule": "0 2 * * *", "template": {"dcsBackup": {"instanceId": "redis-1"}}})
}

/// The controller's verdict: `validate()`'s errors, one per element.
fn rust_errors(obj: &Value) -> Vec<String> {
    let typed: BackupSchedule = serde_json::from_value(obj.clone()).expect("deserialises");
    match typed.validate() {
        Ok(_) => Vec::new(),
        Err(e) => e.split("; ").map(str::to_owned).collect(),
    }
}

enum Expect {
    Valid,
    /// Both the API server and `validate()` say this.
    Invalid(String),
    /// Only the controller can know (the cron fields, whether a zone exists): it says this.
    ControllerOnly(&'static str),
}

fn err(path: &str, message: &str) -> Expect {
    Expect::Invalid(format!("{path}: {message}"))
}

fn check(obj: &Value, label: &str, expect: &Expect) {
    let api = apiserver_errors(&schema_of(KIND), obj, None);
    let rust = rust_errors(obj);
    match expect {
        Expect::Valid => {
            assert!(api.is_empty(), "{label}: apiserver rejects: {api:?}");
            assert!(rust.is_empty(), "{label}: validate() rejects: {rust:?}");
        }
        Expect::Invalid(message) => {
            assert!(
                api.contains(message),
                "{label}: want {message:?}, apiserver {api:?}"
            );
            assert!(
                rust.contains(message),
                "{label}: want {message:?}, validate() {rust:?}"
            );
            for e in &rust {
                assert!(
                    api.contains(e),
                    "{label}: validate() says {e:?}, apiserver {api:?}"
                );
            }
        }
        Expect::ControllerOnly(prefix) => {
            assert!(api.is_empty(), "{label}: apiserver rejects: {api:?}");
            assert!(
                rust.len() == 1 && rust[0].starts_with(prefix),
                "{label}: want {prefix:?}, validate() {rust:?}"
            );
        }
    }
}

#[test]
fn specs_at_apply_time_and_in_the_controller() {
    let cases: Vec<(&str, Value, Expect)> = vec![
        ("minimal", json!({}), Expect::Valid),
        (
            "everything",
            json!({"schedule": "@daily", "timeZone": "America/Argentina/Buenos_Aires", "suspend": true,
                   "startingDeadline": "90m", "retention": {"keepLast": 7, "maxAge": "720h", "keepFailed": 0}}),
            Expect::Valid,
        ),
        (
            "dds with a backup name prefix",
            json!({"template": {"ddsBackup": {"instanceId": "m-1", "backupName": "orders", "description": "nightly"}}}),
            Expect::Valid,
        ),
        (
            "retention with an explicit Delete",
            json!({"retention": {"keepLast": 3}, "template": {"taurusDbBackup": {"instanceId": "t-1", "deletionPolicy": "Delete"}}}),
            Expect::Valid,
        ),
        (
            "six fields",
            json!({"schedule": "0 0 2 * * *"}),
            err("spec.schedule", SCHEDULE_SECONDS_MSG),
        ),
        (
            "seven fields",
            json!({"schedule": "0 0 2 * * * 2026"}),
            err("spec.schedule", SCHEDULE_SECONDS_MSG),
        ),
        (
            "CRON_TZ",
            json!({"schedule": "CRON_TZ=Europe/Berlin 0 2 * * *"}),
            err("spec.schedule", SCHEDULE_TZ_MSG),
        ),
        (
            "four fields",
            json!({"schedule": "0 2 * *"}),
            err("spec.schedule", SCHEDULE_SHAPE_MSG),
        ),
        (
            "@every",
            json!({"schedule": "@every 1h"}),
            err("spec.schedule", SCHEDULE_SHAPE_MSG),
        ),
        (
            "minute 61",
            json!({"schedule": "61 2 * * *"}),
            Expect::ControllerOnly("spec.schedule: "),
        ),
        (
            "malformed zone",
            json!({"timeZone": "Europe//Berlin"}),
            err("spec.timeZone", TIME_ZONE_MSG),
        ),
        (
            "unknown zone",
            json!({"timeZone": "Mars/Olympus"}),
            Expect::ControllerOnly("spec.timeZone: unknown time zone"),
        ),
        (
            "deadline in days",
            json!({"startingDeadline": "1d"}),
            err("spec.startingDeadline", TIMEOUT_FORMAT_MSG),
        ),
        (
            "deadline too long",
            json!({"startingDeadline": "169h"}),
            err("spec.startingDeadline", TIMEOUT_RANGE_MSG),
        ),
        (
            "no template",
            json!({"template": {}}),
            err("spec.template", ONE_TEMPLATE_MSG),
        ),
        (
            "two templates",
            json!({"template": {"dcsBackup": {"instanceId": "a"}, "ddsBackup": {"instanceId": "b"}}}),
            err("spec.template", ONE_TEMPLATE_MSG),
        ),
        (
            "retention with Retain",
            json!({"retention": {"keepLast": 3}, "template": {"dcsBackup": {"instanceId": "a", "deletionPolicy": "Retain"}}}),
            err("spec", RETENTION_DELETE_MSG),
        ),
        (
            "keepLast 0",
            json!({"retention": {"keepLast": 0}}),
            err("spec.retention.keepLast", KEEP_LAST_MSG),
        ),
        (
            "keepFailed -1",
            json!({"retention": {"keepFailed": -1}}),
            err("spec.retention.keepFailed", KEEP_FAILED_MSG),
        ),
        (
            "maxAge in days",
            json!({"retention": {"maxAge": "30d"}}),
            err("spec.retention.maxAge", TIMEOUT_FORMAT_MSG),
        ),
        (
            "maxAge too long",
            json!({"retention": {"maxAge": "87601h"}}),
            err("spec.retention.maxAge", MAX_AGE_RANGE_MSG),
        ),
        (
            "template instance id",
            json!({"template": {"dcsBackup": {"instanceId": "bad id"}}}),
            err("spec.template.dcsBackup.instanceId", INSTANCE_ID_MSG),
        ),
        (
            "template backup name",
            json!({"template": {"ddsBackup": {"instanceId": "m", "backupName": "1bad"}}}),
            err("spec.template.ddsBackup.backupName", BACKUP_NAME_MSG),
        ),
    ];
    for (label, patch, expect) in &cases {
        check(&object(KIND, patched(&base(), patch)), label, expect);
    }
}

#[test]
fn a_name_longer_than_a_label_value_is_refused() {
    let mut obj = object(KIND, base());
    obj["metadata"]["name"] = json!("n".repeat(64));
    let api = apiserver_errors(&schema_of(KIND), &obj, None);
    assert!(api.iter().any(|e| e.ends_with(NAME_MSG)), "{api:?}");
    assert_eq!(rust_errors(&obj), [format!("metadata.name: {NAME_MSG}")]);
    obj["metadata"]["name"] = json!("n".repeat(63));
    assert!(apiserver_errors(&schema_of(KIND), &obj, None).is_empty());
}

#[test]
fn the_spec_may_be_edited_but_the_template_kind_is_fixed() {
    let schema = schema_of(KIND);
    let old = object(KIND, base());
    for edit in [
        json!({"schedule": "30 3 * * *"}),
        json!({"suspend": true}),
        json!({"template": {"dcsBackup": {"instanceId": "redis-2", "remark": "moved"}}}),
    ] {
        let new = object(KIND, patched(&base(), &edit));
        let errors = apiserver_errors(&schema, &new, Some(&old));
        assert!(errors.is_empty(), "{edit}: {errors:?}");
    }
    let new = object(
        KIND,
        patched(
            &base(),
            &json!({"template": {"ddsBackup": {"instanceId": "m"}}}),
        ),
    );
    let errors = apiserver_errors(&schema, &new, Some(&old));
    assert_eq!(errors, [format!("spec.template: {TEMPLATE_KIND_MSG}")]);
}

#[test]
fn columns_and_defaults() {
    let crd = hwcloud_backup_operator::crd::all_crds()
        .into_iter()
        .find(|c| c.spec.names.kind == KIND)
        .unwrap();
    let columns: Vec<(String, String, String)> = crd.spec.versions[0]
        .additional_printer_columns
        .as_ref()
        .unwrap()
        .iter()
        .map(|c| (c.name.clone(), c.json_path.clone(), c.type_.clone()))
        .collect();
    let want = [
        ("Schedule", ".spec.schedule", "string"),
        ("TimeZone", ".spec.timeZone", "string"),
        ("Suspend", ".spec.suspend", "boolean"),
        ("Last", ".status.lastScheduleTime", "date"),
        ("Next", ".status.nextScheduleTime", "string"),
        ("Age", ".metadata.creationTimestamp", "date"),
    ]
    .map(|(a, b, c)| (a.to_owned(), b.to_owned(), c.to_owned()));
    assert_eq!(columns, want);

    let spec = &schema_of(KIND)["properties"]["spec"];
    assert_eq!(spec["required"], json!(["schedule", "template"]));
    let p = &spec["properties"];
    assert_eq!(p["timeZone"]["default"], "UTC");
    assert_eq!(p["startingDeadline"]["default"], "1h");
    assert_eq!(p["suspend"]["default"], false);
    assert_eq!(p["retention"]["properties"]["keepFailed"]["default"], 3);
    for kind in ["dcsBackup", "ddsBackup", "taurusDbBackup"] {
        let t = &p["template"]["properties"][kind];
        assert_eq!(
            t["properties"]["deletionPolicy"]["default"], "Delete",
            "{kind}"
        );
        assert!(
            t.get("x-kubernetes-validations").is_none(),
            "{kind}: the template is editable: {}",
            t["x-kubernetes-validations"]
        );
        assert_eq!(t["required"], json!(["instanceId"]), "{kind}");
    }
    // The spec itself has only the retention rule, no immutability.
    let rules: Vec<&str> = spec["x-kubernetes-validations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules, [RETENTION_DELETE_RULE]);
}

/// The CEL errors on `path`.
fn errors_on(obj: &Value, path: &str) -> Vec<String> {
    apiserver_errors(&schema_of(KIND), obj, None)
        .into_iter()
        .filter(|e| e.starts_with(&format!("{path}: ")))
        .collect()
}

fn text(chars: &'static str, max: usize) -> impl Strategy<Value = String> {
    let pick = proptest::sample::select(chars.chars().collect::<Vec<_>>());
    proptest::collection::vec(pick, 0..=max).prop_map(|v| v.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn schedule_rules_agree_with_their_rust_twin(s in text("0 1 2 * / , - @dailyhourlymonth TZ=CRON_\t\u{a0}é", 40)) {
        let obj = object(KIND, patched(&base(), &json!({"schedule": s})));
        let cel = errors_on(&obj, "spec.schedule");
        let rust: Vec<String> = schedule_shape(&s).err().map(|m| format!("spec.schedule: {m}")).into_iter().collect();
        prop_assert_eq!(cel, rust);
    }

    #[test]
    fn time_zone_rules_agree_with_their_rust_twin(z in text("Aa_z/+-09 .é", 20)) {
        let obj = object(KIND, patched(&base(), &json!({"timeZone": z})));
        let cel = errors_on(&obj, "spec.timeZone");
        let rust: Vec<String> = (!is_time_zone_name(&z)).then(|| format!("spec.timeZone: {TIME_ZONE_MSG}")).into_iter().collect();
        prop_assert_eq!(cel, rust);
    }
}

#[test]
fn the_examples_pass_the_api_server_and_the_controller() {
    let path = format!(
        "{}/examples/backupschedule.yaml",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(path).unwrap();
    let docs: Vec<&str> = text.split("\n---\n").collect();
    assert_eq!(docs.len(), 3, "one per service");
    for doc in docs {
        let mut obj: Value = serde_saphyr::from_str(doc).unwrap();
        obj["metadata"]["namespace"] = json!("prod");
        let api = apiserver_errors(&schema_of(KIND), &obj, None);
        assert!(api.is_empty(), "{}: {api:?}", obj["metadata"]["name"]);
        assert!(rust_errors(&obj).is_empty(), "{}", obj["metadata"]["name"]);
    }
}
