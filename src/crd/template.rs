//! [`Template`]: a backup kind's spec used inside a `BackupSchedule`.
//!
//! The template has exactly the fields and rules of the kind's spec (it *is* that spec type), with two
//! differences that a schedule needs: it may be edited (the kind's `self == oldSelf` rule is dropped),
//! and `deletionPolicy` defaults to `Delete`, so that retention, which deletes old backup resources,
//! also deletes their cloud backups.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Value, json};

use super::rules::IMMUTABLE_RULE;

/// The spec a schedule's children get.
#[derive(Serialize, Clone, Debug, PartialEq)]
#[serde(transparent)]
pub struct Template<S>(pub S);

/// The template's `deletionPolicy` when it names none.
pub const TEMPLATE_DELETION_POLICY: &str = "Delete";

impl<S: JsonSchema> JsonSchema for Template<S> {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        format!("{}Template", S::schema_name()).into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let mut schema = generator.subschema_for::<S>();
        if let Some(Value::Array(rules)) = schema.get_mut("x-kubernetes-validations") {
            rules.retain(|r| r["rule"] != IMMUTABLE_RULE);
        }
        if schema
            .get("x-kubernetes-validations")
            .and_then(Value::as_array)
            .is_some_and(Vec::is_empty)
        {
            schema.remove("x-kubernetes-validations");
        }
        if let Some(policy) = schema
            .get_mut("properties")
            .and_then(|p| p.get_mut("deletionPolicy"))
            .and_then(Value::as_object_mut)
        {
            policy.insert("default".into(), json!(TEMPLATE_DELETION_POLICY));
            policy.insert(
                "description".into(),
                json!(
                    "`Delete` (the default in a template) deletes the cloud backup when the backup \
                     resource is deleted, by retention or by hand; `Retain` keeps it."
                ),
            );
        }
        schema
    }
}

impl<'de, S: DeserializeOwned> Deserialize<'de> for Template<S> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut value = Value::deserialize(deserializer)?;
        // The API server applies the schema default; objects that never passed it get the same.
        if let Some(obj) = value.as_object_mut() {
            obj.entry("deletionPolicy")
                .or_insert_with(|| json!(TEMPLATE_DELETION_POLICY));
        }
        serde_json::from_value(value)
            .map(Template)
            .map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::{DcsBackupSpec, DeletionPolicy};

    #[test]
    fn deletion_policy_defaults_to_delete_and_an_explicit_one_stays() {
        let t: Template<DcsBackupSpec> =
            serde_json::from_value(json!({"instanceId": "i"})).unwrap();
        assert_eq!(t.0.deletion_policy, DeletionPolicy::Delete);
        let t: Template<DcsBackupSpec> =
            serde_json::from_value(json!({"instanceId": "i", "deletionPolicy": "Retain"})).unwrap();
        assert_eq!(t.0.deletion_policy, DeletionPolicy::Retain);
        assert!(serde_json::from_value::<Template<DcsBackupSpec>>(json!({"remark": "x"})).is_err());
    }
}
