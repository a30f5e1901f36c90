//! Validation without an apiserver: kube's client-side CEL plus the schema keywords it skips.
//!
//! kube-cel evaluates only `x-kubernetes-validations`. The apiserver also enforces `required`,
//! `maxLength` and `enum`; [`schema_errors`] checks those three (all that our specs use besides
//! CEL; formats are expressed as CEL rules, not `pattern`, so that every failure carries our message).

#![allow(dead_code)]

pub mod cases;

use hwcloud_backup_operator::crd::{self, BackupResource, rules::max_len_msg};
use std::{cell::RefCell, collections::HashMap, rc::Rc};

use kube::core::cel::{CompiledSchema, Validator, compile_schema};
use serde_json::{Value, json};

/// The openAPIV3Schema of `kind`.
pub fn schema_of(kind: &str) -> Value {
    SCHEMAS.with(|s| {
        s.borrow_mut()
            .entry(kind.to_owned())
            .or_insert_with(|| {
                let crd = crd::all_crds()
                    .into_iter()
                    .find(|c| c.spec.names.kind == kind)
                    .unwrap();
                let schema = crd.spec.versions[0]
                    .schema
                    .as_ref()
                    .unwrap()
                    .open_api_v3_schema
                    .as_ref()
                    .unwrap();
                serde_json::to_value(schema).unwrap()
            })
            .clone()
    })
}

/// A stored object of `kind` with `spec`, as the apiserver would hold it.
pub fn object(kind: &str, spec: Value) -> Value {
    json!({
        "apiVersion": "backup.hwcloud.dev/v1alpha1",
        "kind": kind,
        "metadata": {"name": "nightly", "namespace": "prod", "uid": "0f9e8d7c-1111-4222-8333-444455556666"},
        "spec": spec,
    })
}

/// `base` with the keys of `patch` set; a `null` in `patch` removes the key.
pub fn patched(base: &Value, patch: &Value) -> Value {
    let mut out = base.clone();
    for (k, v) in patch.as_object().unwrap() {
        if v.is_null() {
            out.as_object_mut().unwrap().remove(k);
        } else {
            out[k] = v.clone();
        }
    }
    out
}

/// `required`, `maxLength` and `enum` failures as `"<path>: <message>"`.
pub fn schema_errors(schema: &Value, value: &Value, path: &str) -> Vec<String> {
    let mut errors = Vec::new();
    let at = |key: &str| {
        if path.is_empty() {
            key.to_owned()
        } else {
            format!("{path}.{key}")
        }
    };
    if let (Some(required), Some(obj)) = (
        schema.get("required").and_then(Value::as_array),
        value.as_object(),
    ) {
        for key in required.iter().filter_map(Value::as_str) {
            if !obj.contains_key(key) {
                errors.push(format!("{}: Required value", at(key)));
            }
        }
    }
    if let (Some(max), Some(s)) = (
        schema.get("maxLength").and_then(Value::as_u64),
        value.as_str(),
    ) && s.chars().count() as u64 > max
    {
        errors.push(format!("{path}: {}", max_len_msg(max as usize)));
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !value.is_null()
        && !allowed.contains(value)
    {
        errors.push(format!("{path}: Unsupported value: {value}"));
    }
    if let (Some(props), Some(obj)) = (
        schema.get("properties").and_then(Value::as_object),
        value.as_object(),
    ) {
        for (key, child) in obj {
            match props.get(key) {
                Some(child_schema) => errors.extend(schema_errors(child_schema, child, &at(key))),
                // The apiserver would prune it; flag it so a test typo cannot pass silently.
                None if path.starts_with("spec") => {
                    errors.push(format!("{}: unknown field", at(key)))
                }
                None => {}
            }
        }
    }
    errors
}

thread_local! {
    // Compiling the rules dominates the run time of the property tests, so do it once per schema.
    static VALIDATOR: Validator = Validator::new();
    static SCHEMAS: RefCell<HashMap<String, Value>> = RefCell::default();
    static COMPILED: RefCell<HashMap<String, Rc<CompiledSchema>>> = RefCell::default();
}

/// Every error the apiserver would report for creating `obj` (or updating `old` to it).
pub fn apiserver_errors(schema: &Value, obj: &Value, old: Option<&Value>) -> Vec<String> {
    let compiled = COMPILED.with(|c| {
        c.borrow_mut()
            .entry(schema.to_string())
            .or_insert_with(|| Rc::new(compile_schema(schema)))
            .clone()
    });
    let mut errors = schema_errors(schema, obj, "");
    if let Err(cel) = VALIDATOR.with(|v| v.validate_compiled(&compiled, obj, old)) {
        errors.extend(cel.iter().map(ToString::to_string));
    }
    errors
}

/// The controller's view: `None` if `obj` does not even deserialize, else its `validate()` errors.
pub fn rust_errors<K: BackupResource>(obj: &Value) -> Option<Vec<String>> {
    let typed: K = serde_json::from_value(obj.clone()).ok()?;
    Some(match typed.validate() {
        Ok(()) => Vec::new(),
        Err(e) => e.split("; ").map(str::to_owned).collect(),
    })
}
