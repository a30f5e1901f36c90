//! The whole-spec immutability rule (a CEL transition rule, checked with an old object) and the
//! typed `validate_cel` / `validate_cel_update` methods kube generates for each kind.

mod support;

use hwcloud_backup_operator::crd::{DcsBackup, rules};
use serde_json::json;
use support::{apiserver_errors, object, patched, schema_of};

#[test]
fn spec_is_immutable_but_status_and_metadata_may_change() {
    for (kind, spec, optional) in [
        (
            "DcsBackup",
            json!({"instanceId": "i-1", "remark": "x"}),
            "remark",
        ),
        (
            "DcsRestore",
            json!({"instanceId": "i-1", "backupId": "b-1"}),
            "backupId",
        ),
        (
            "DdsBackup",
            json!({"instanceId": "i-1", "backupName": "abcd"}),
            "backupName",
        ),
        (
            "TaurusDbBackup",
            json!({"instanceId": "i-1", "description": "x"}),
            "description",
        ),
    ] {
        let schema = schema_of(kind);
        let old = object(kind, spec.clone());
        let immutable = format!("spec: {}", rules::IMMUTABLE_MSG);
        // Changing, adding and removing a field are all refused.
        for change in [
            json!({"instanceId": "i-2"}),
            json!({"timeout": "2h"}),
            json!({optional: null}),
        ] {
            let new = object(kind, patched(&spec, &change));
            let errors = apiserver_errors(&schema, &new, Some(&old));
            assert!(errors.contains(&immutable), "{kind} {change}: {errors:?}");
        }
        // Same spec with a status and a label: an ordinary controller or user update.
        let mut new = old.clone();
        new["status"] = json!({"phase": "Running", "backupId": "b-9"});
        new["metadata"]["labels"] = json!({"team": "a"});
        assert_eq!(
            apiserver_errors(&schema, &new, Some(&old)),
            Vec::<String>::new(),
            "{kind}"
        );
        // Creation has no old object, so the transition rule does not apply.
        assert_eq!(
            apiserver_errors(&schema, &new, None),
            Vec::<String>::new(),
            "{kind}"
        );
    }
}

#[test]
fn generated_typed_cel_methods_work() {
    let mut old: DcsBackup =
        serde_json::from_value(object("DcsBackup", json!({"instanceId": "i-1"}))).unwrap();
    assert!(old.validate_cel().is_ok());
    let mut new = old.clone();
    new.spec.instance_id = "i-2".into();
    assert!(new.validate_cel().is_ok());
    let errors = new.validate_cel_update(&old).unwrap_err();
    assert_eq!(
        errors
            .iter()
            .map(|e| e.message.as_str())
            .collect::<Vec<_>>(),
        [rules::IMMUTABLE_MSG]
    );
    old.spec.instance_id = "bad id".into();
    let errors = old.validate_cel().unwrap_err();
    assert_eq!(
        errors.iter().map(ToString::to_string).collect::<Vec<_>>(),
        [format!("spec.instanceId: {}", rules::INSTANCE_ID_MSG)]
    );
}
