//! Property tests of every cloud response parser against arbitrary bytes and arbitrary JSON in the
//! documented shapes: no panics, and what a parser returns is within the documented bounds
//! (ids usable, progress 0-100, sizes non-negative, error text bounded). Failures proptest finds
//! are kept below as plain `#[test]` regressions.

use proptest::prelude::*;
use serde_json::{Value, json};

use super::dcs_records::{parse_backup_page, parse_restore_page};
use super::error::{Error, parse_error_body};
use super::job::{parse_backup_list, parse_created, parse_job};
use super::wire::{KB, Loose, MAX_ID_LEN, decode};

/// Field names the parsers look for, plus noise.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(vec![
            "backup_id", "restore_id", "job_id", "id", "status", "progress", "process", "size",
            "remark", "restore_remark", "error_code", "error_msg", "errorCode", "errorMsg", "code",
            "message", "error", "error_ext_msg", "error_description", "job", "backup", "backups",
            "total_num", "total_count", "backup_record_response", "restore_record_response",
            "description", "name", "instance_id", "begin_time", "fail_reason", "created_at",
        ])
        .prop_map(str::to_string),
        1 => "[a-z_]{1,8}",
    ]
}

/// Scalars, biased towards the quirky values clouds really send.
fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        ".{0,12}".prop_map(Value::String),
        prop::sample::select(vec![
            "succeed",
            "backuping",
            "Completed",
            "FAILED",
            "100.00",
            "9%",
            "-1",
            "NaN",
            "inf",
            "1e999",
            "",
            " ",
            "{}",
        ])
        .prop_map(|s| Value::String(s.to_string())),
        (1usize..400).prop_map(|n| Value::String("x".repeat(n))),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map(key(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A record of arbitrary field values, in an arbitrary documented list shape.
fn documented_body() -> impl Strategy<Value = Vec<u8>> {
    let record = prop::collection::btree_map(key(), value(), 0..8)
        .prop_map(|m| Value::Object(m.into_iter().collect()));
    let list_key = prop::sample::select(vec![
        "backup_record_response",
        "restore_record_response",
        "backups",
        "job",
        "backup",
    ]);
    (
        list_key,
        prop::collection::vec(record, 0..4),
        scalar(),
        any::<bool>(),
    )
        .prop_map(|(k, records, total, as_list)| {
            let inner = if as_list {
                Value::Array(records)
            } else {
                records.into_iter().next().unwrap_or(Value::Null)
            };
            json!({ k: inner, "total_num": total.clone(), "total_count": total, "job_id": "j" })
                .to_string()
                .into_bytes()
        })
}

fn any_body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..256),
        value().prop_map(|v| v.to_string().into_bytes()),
        documented_body(),
    ]
}

fn usable_id(id: &str) -> bool {
    !id.trim().is_empty() && id.len() <= MAX_ID_LEN
}

fn progress_ok(p: Option<f64>) -> bool {
    p.is_none_or(|p| (0.0..=100.0).contains(&p))
}

/// Every `Decode` error names its call and stays short, whatever the body quoted.
fn bounded(e: &Error) -> bool {
    e.to_string().len() <= 400
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn dcs_pages_parse_within_bounds(body in any_body()) {
        match parse_backup_page("list_backups", &body) {
            Ok(page) => {
                prop_assert!(page.records.len() <= page.raw_len);
                for r in &page.records {
                    prop_assert!(usable_id(&r.backup_id), "{:?}", r.backup_id);
                    prop_assert!(progress_ok(r.progress));
                    prop_assert!(r.size_bytes.is_none_or(|s| s >= 0));
                    let _ = r.view();
                }
            }
            Err(e) => prop_assert!(bounded(&e), "{e}"),
        }
        match parse_restore_page("list_restores", &body) {
            Ok(page) => {
                prop_assert!(page.records.len() <= page.raw_len);
                for r in &page.records {
                    prop_assert!(usable_id(&r.restore_id));
                    prop_assert!(r.backup_id.as_deref().is_none_or(usable_id));
                    prop_assert!(progress_ok(r.progress));
                    let _ = r.view();
                }
            }
            Err(e) => prop_assert!(bounded(&e), "{e}"),
        }
    }

    #[test]
    fn db_answers_parse_within_bounds(body in any_body()) {
        match parse_created("dds", "create_backup", &body) {
            Ok(c) => prop_assert!(usable_id(&c.backup_id) && usable_id(&c.job_id), "{c:?}"),
            Err(e) => prop_assert!(bounded(&e), "{e}"),
        }
        match parse_job("taurus", "get_job", "fallback-id", &body) {
            Ok(job) => {
                prop_assert!(usable_id(&job.id));
                prop_assert!(progress_ok(job.progress));
                let _ = job.view();
            }
            Err(e) => prop_assert!(bounded(&e), "{e}"),
        }
        match parse_backup_list("dds", "list_backups", KB, &body) {
            Ok(page) => {
                prop_assert!(page.records.len() <= page.raw_len);
                for b in &page.records {
                    prop_assert!(usable_id(&b.id));
                    prop_assert!(b.size_bytes.is_none_or(|s| s >= 0));
                    let _ = b.view();
                }
            }
            Err(e) => prop_assert!(bounded(&e), "{e}"),
        }
    }

    #[test]
    fn error_bodies_give_bounded_codes_and_messages(body in any_body()) {
        let (code, message) = parse_error_body(&body);
        prop_assert!(code.len() <= 64 + 3, "{} bytes of code", code.len());
        prop_assert!(message.len() <= 512 + 3, "{} bytes of message", message.len());
    }

    #[test]
    fn truncated_documented_bodies_fail_cleanly(body in documented_body(), cut in any::<prop::sample::Index>()) {
        let prefix = &body[..cut.index(body.len())];
        // Any prefix: a value or an error, never a panic; a strict prefix of an object never parses.
        let dcs = parse_backup_page("list_backups", prefix);
        let db = parse_backup_list("taurus", "list_backups", KB, prefix);
        if !prefix.is_empty() {
            prop_assert!(dcs.is_err() && db.is_err());
        }
    }

    #[test]
    fn loose_fields_read_within_bounds(v in value()) {
        let l: Loose = serde_json::from_value(v).unwrap();
        prop_assert!(l.number().is_none_or(f64::is_finite));
        prop_assert!(progress_ok(l.progress()));
        prop_assert!(l.size_bytes(KB).is_none_or(|s| s >= 0));
        prop_assert!(l.id().is_none_or(|id| usable_id(&id)));
        prop_assert!(l.text().is_none_or(|t| !t.trim().is_empty()));
    }
}

// Regressions: hostile answers that once went straight into status, events and logs.

#[test]
fn decode_errors_do_not_quote_a_whole_value() {
    let body = json!({"backup_record_response": "Z".repeat(1 << 20)}).to_string();
    let e = parse_backup_page("list_backups", body.as_bytes()).unwrap_err();
    assert!(bounded(&e), "{} bytes", e.to_string().len());
    assert!(e.to_string().contains("invalid type: string"), "{e}");
}

#[test]
fn huge_error_codes_are_cut() {
    let body = json!({"error_code": "C".repeat(200_000), "error_msg": "bad"}).to_string();
    let (code, message) = parse_error_body(body.as_bytes());
    assert!(code.len() <= 67 && code.starts_with("CCCC") && code.ends_with("..."));
    assert_eq!(message, "bad");
}

#[test]
fn oversized_ids_are_not_ids() {
    let huge = "I".repeat(MAX_ID_LEN + 1);
    let created = json!({"backup_id": huge, "job_id": "j"}).to_string();
    let e = parse_created("dds", "create_backup", created.as_bytes()).unwrap_err();
    assert!(e.to_string().contains("no usable backup id"), "{e}");
    let page = json!({"backup_record_response": [{"backup_id": huge}, {"backup_id": "ok"}]});
    let page = parse_backup_page("list_backups", page.to_string().as_bytes()).unwrap();
    assert_eq!(page.raw_len, 2);
    assert_eq!(
        page.records.len(),
        1,
        "the absurd entry is skipped like an id-less one"
    );
    let just_right = "I".repeat(MAX_ID_LEN);
    let ok = json!({"backup_id": just_right, "job_id": "j"}).to_string();
    assert_eq!(
        parse_created("dds", "create_backup", ok.as_bytes())
            .unwrap()
            .backup_id
            .len(),
        MAX_ID_LEN
    );
}

#[test]
fn decode_rejects_what_is_not_an_object() {
    for body in [&b"[]"[..], b"\"x\"", b"1", b"null", b"<html>", b"\xff"] {
        assert!(decode::<Value>("dcs", "op", body).is_err(), "{body:?}");
    }
}

#[test]
fn deeply_nested_bodies_are_errors_not_stack_overflows() {
    let deep_array = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let deep_object = format!("{}1{}", r#"{"error":"#.repeat(100_000), "}".repeat(100_000));
    for body in [deep_array, deep_object] {
        let (code, message) = parse_error_body(body.as_bytes());
        assert!(
            code.is_empty() && message.len() <= 515,
            "{code:?} {}",
            message.len()
        );
        // Unknown fields are skipped however deep they go: at most an empty page.
        let page = parse_backup_page("list_backups", body.as_bytes());
        if body.starts_with('[') {
            assert!(page.is_err(), "not an object");
        } else {
            assert!(page.is_ok_and(|p| p.records.is_empty()));
        }
        assert!(parse_job("dds", "get_job", "j", body.as_bytes()).is_err());
    }
}
