//! DCS backup and restore records: the public views and their lenient wire forms (v2 and v1.0
//! share the shapes).

use serde::Deserialize;

use super::error::Error;
use super::types::{OpView, dcs_state};
use super::wire::{BYTE, Loose, Page, decode, is_empty_body};

/// One DCS backup as listed by the cloud.
#[derive(Debug, Clone, PartialEq)]
pub struct DcsBackupRecord {
    pub backup_id: String,
    pub instance_id: Option<String>,
    /// `waiting`, `backuping`, `succeed`, `failed`, `expired`, `deleted`.
    pub status: String,
    pub progress: Option<f64>,
    pub size_bytes: Option<i64>,
    pub remark: Option<String>,
    /// `dcs.08.000N` when the backup failed.
    pub error_code: Option<String>,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
}

impl DcsBackupRecord {
    /// Listed, but no longer there: `deleted` (in the console, by the operator, or by the cloud's
    /// rotation of its 24 backups per instance) or `expired`. Records stay listed after deletion.
    pub fn is_gone(&self) -> bool {
        ["deleted", "expired"]
            .iter()
            .any(|s| self.status.eq_ignore_ascii_case(s))
    }

    pub fn view(&self) -> OpView {
        OpView {
            state: dcs_state(&self.status),
            raw_status: self.status.clone(),
            progress: self.progress,
            size_bytes: self.size_bytes,
            message: self.error_code.as_deref().map(describe_error_code),
        }
    }
}

/// One DCS restore as listed by the cloud.
#[derive(Debug, Clone, PartialEq)]
pub struct DcsRestoreRecord {
    pub restore_id: String,
    pub backup_id: Option<String>,
    /// `waiting`, `restoring`, `succeed`, `failed`.
    pub status: String,
    pub progress: Option<f64>,
    /// The cloud's `restore_remark`.
    pub remark: Option<String>,
    pub error_code: Option<String>,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
}

impl DcsRestoreRecord {
    pub fn view(&self) -> OpView {
        OpView {
            state: dcs_state(&self.status),
            raw_status: self.status.clone(),
            progress: self.progress,
            size_bytes: None,
            message: self.error_code.as_deref().map(describe_error_code),
        }
    }
}

/// The record error code with the documented meaning, e.g. `dcs.08.0002 (operation timed out)`.
fn describe_error_code(code: &str) -> String {
    let meaning = match code.to_ascii_lowercase().as_str() {
        "dcs.08.0001" => "the backup/restore tool failed to start",
        "dcs.08.0002" => "operation timed out",
        "dcs.08.0003" => "deleting the bucket failed",
        "dcs.08.0004" => "obtaining the AK/SK failed",
        "dcs.08.0005" => "creating the bucket failed",
        "dcs.08.0006" => "querying the backup size failed",
        "dcs.08.0007" => "data synchronisation failed during restoration",
        "dcs.08.0008" => "the instance was busy with another task",
        _ => return code.to_string(),
    };
    format!("{code} ({meaning})")
}

#[derive(Deserialize)]
struct WireBackupPage {
    #[serde(default)]
    total_num: Loose,
    #[serde(default)]
    backup_record_response: Option<Vec<WireRecord>>,
}

#[derive(Deserialize)]
struct WireRestorePage {
    #[serde(default)]
    total_num: Loose,
    #[serde(default)]
    restore_record_response: Option<Vec<WireRecord>>,
}

/// Every field either record kind has; `period`, `error_code` may be `{}` in the docs' examples.
#[derive(Deserialize)]
struct WireRecord {
    #[serde(default)]
    backup_id: Loose,
    #[serde(default)]
    restore_id: Loose,
    #[serde(default)]
    instance_id: Loose,
    #[serde(default)]
    status: Loose,
    #[serde(default)]
    progress: Loose,
    #[serde(default)]
    size: Loose,
    #[serde(default)]
    remark: Loose,
    #[serde(default)]
    restore_remark: Loose,
    #[serde(default)]
    error_code: Loose,
    #[serde(default)]
    created_at: Loose,
    #[serde(default)]
    updated_at: Loose,
}

/// A list-backups page; 204 or an empty body is a page with no records.
pub(crate) fn parse_backup_page(
    operation: &'static str,
    body: &[u8],
) -> Result<Page<DcsBackupRecord>, Error> {
    if is_empty_body(body) {
        return Ok(Page::empty());
    }
    let page: WireBackupPage = decode("dcs", operation, body)?;
    let raw = page.backup_record_response.unwrap_or_default();
    let raw_len = raw.len();
    let records = raw
        .into_iter()
        // An entry without an id cannot be matched to anything; skipping it keeps the others usable.
        .filter_map(|r| {
            Some(DcsBackupRecord {
                backup_id: r.backup_id.id()?,
                instance_id: r.instance_id.text(),
                status: r.status.text().unwrap_or_default(),
                progress: r.progress.progress(),
                size_bytes: r.size.size_bytes(BYTE),
                remark: r.remark.text(),
                error_code: r.error_code.text(),
                created_at: r.created_at.text(),
                updated_at: r.updated_at.text(),
            })
        })
        .collect();
    Ok(Page {
        records,
        raw_len,
        total: page.total_num.count(),
    })
}

/// A list-restores page; 204 or an empty body is a page with no records.
pub(crate) fn parse_restore_page(
    operation: &'static str,
    body: &[u8],
) -> Result<Page<DcsRestoreRecord>, Error> {
    if is_empty_body(body) {
        return Ok(Page::empty());
    }
    let page: WireRestorePage = decode("dcs", operation, body)?;
    let raw = page.restore_record_response.unwrap_or_default();
    let raw_len = raw.len();
    let records = raw
        .into_iter()
        .filter_map(|r| {
            Some(DcsRestoreRecord {
                restore_id: r.restore_id.id()?,
                backup_id: r.backup_id.id(),
                status: r.status.text().unwrap_or_default(),
                progress: r.progress.progress(),
                remark: r.restore_remark.text().or_else(|| r.remark.text()),
                error_code: r.error_code.text(),
                created_at: r.created_at.text(),
                updated_at: r.updated_at.text(),
            })
        })
        .collect();
    Ok(Page {
        records,
        raw_len,
        total: page.total_num.count(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::types::OpState;

    /// The v2 documentation example, quirks included (`{}` for `error_code` and `period`).
    const V2_BACKUPS: &str = r#"{
      "total_num": 2,
      "backup_record_response": [
        {"status": "succeed", "remark": "op-uid-123", "period": {}, "progress": "100.00",
         "size": 2099, "instance_id": "i-1", "backup_id": "b-1", "created_at": "2026-01-01T00:00:00Z",
         "updated_at": "2026-01-01T00:02:00Z", "execution_at": "x", "backup_type": "manual",
         "backup_name": "n", "error_code": {}, "is_support_restore": "TRUE", "backup_format": "rdb"},
        {"status": "backuping", "progress": "45.50", "size": "4096", "backup_id": "b-2",
         "error_code": "", "remark": null}
      ]}"#;

    #[test]
    fn parses_documented_backup_page_with_quirks() {
        let page = parse_backup_page("list_backups", V2_BACKUPS.as_bytes()).unwrap();
        assert_eq!(page.total, Some(2));
        assert_eq!(page.raw_len, 2);
        let b1 = &page.records[0];
        assert_eq!(b1.backup_id, "b-1");
        assert_eq!(b1.instance_id.as_deref(), Some("i-1"));
        assert_eq!(b1.progress, Some(100.0));
        assert_eq!(b1.size_bytes, Some(2099));
        assert_eq!(b1.error_code, None);
        assert_eq!(b1.remark.as_deref(), Some("op-uid-123"));
        assert_eq!(b1.view().state, OpState::Succeeded);
        let b2 = &page.records[1];
        assert_eq!(b2.size_bytes, Some(4096), "size as a string");
        assert_eq!(b2.progress, Some(45.5));
        assert_eq!(b2.remark, None);
        assert_eq!(b2.view().state, OpState::InProgress);
    }

    #[test]
    fn deleted_and_expired_records_are_gone() {
        let record = |status: &str| DcsBackupRecord {
            backup_id: "b".into(),
            instance_id: None,
            status: status.into(),
            progress: None,
            size_bytes: None,
            remark: None,
            error_code: None,
            created_at: None,
            updated_at: None,
        };
        for gone in ["deleted", "expired", "DELETED"] {
            assert!(record(gone).is_gone(), "{gone}");
        }
        for there in ["waiting", "backuping", "succeed", "failed", ""] {
            assert!(!record(there).is_gone(), "{there}");
        }
    }

    #[test]
    fn empty_bodies_and_missing_arrays_are_empty_pages() {
        for body in [
            "",
            "  ",
            r#"{"total_num":0}"#,
            r#"{"backup_record_response":null}"#,
        ] {
            let page = parse_backup_page("list_backups", body.as_bytes()).unwrap();
            assert!(page.records.is_empty(), "{body:?}");
        }
        let page = parse_restore_page("list_restores", b"").unwrap();
        assert_eq!(page.total, Some(0));
    }

    #[test]
    fn wrong_shapes_are_decode_errors_and_idless_entries_skipped() {
        for body in [
            "<html>",
            "[]",
            r#"{"backup_record_response":{}}"#,
            r#"{"backup_record_response":[1]}"#,
        ] {
            assert!(
                matches!(
                    parse_backup_page("list_backups", body.as_bytes()),
                    Err(Error::Decode { .. })
                ),
                "{body}"
            );
        }
        let page = parse_backup_page(
            "list_backups",
            br#"{"total_num":2,"backup_record_response":[{"status":"succeed"},{"backup_id":"b"}]}"#,
        )
        .unwrap();
        assert_eq!(page.raw_len, 2);
        assert_eq!(page.records.len(), 1);
        assert_eq!(
            page.records[0].status, "",
            "missing status is empty, i.e. Unknown"
        );
        assert_eq!(page.records[0].view().state, OpState::Unknown);
    }

    #[test]
    fn failed_records_explain_their_error_code() {
        let body = br#"{"total_num":1,"backup_record_response":[
            {"backup_id":"b","status":"failed","error_code":"dcs.08.0002","progress":"0.00"}]}"#;
        let view = parse_backup_page("list_backups", body).unwrap().records[0].view();
        assert_eq!(view.state, OpState::Failed);
        assert_eq!(
            view.message.as_deref(),
            Some("dcs.08.0002 (operation timed out)")
        );
    }

    #[test]
    fn parses_documented_restore_page() {
        let body = br#"{"total_num":1,"restore_record_response":[
            {"backup_id":"b-1","restore_id":"r-1","backup_name":"n","updated_at":"u",
             "restore_remark":"marker","created_at":"c","progress":"100.00","error_code":{},
             "restore_name":"rn","backup_remark":"br","status":"succeed","sourceInstanceId":"x"}]}"#;
        let page = parse_restore_page("list_restores", body).unwrap();
        let r = &page.records[0];
        assert_eq!(r.restore_id, "r-1");
        assert_eq!(r.backup_id.as_deref(), Some("b-1"));
        assert_eq!(r.remark.as_deref(), Some("marker"));
        assert_eq!(r.error_code, None);
        assert_eq!(r.view().state, OpState::Succeeded);
        assert_eq!(r.view().progress, Some(100.0));
    }
}
