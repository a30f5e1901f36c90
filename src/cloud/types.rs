//! Service-neutral views of cloud operations: what the controllers decide on.

/// Where a cloud operation (backup, restore, job) stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpState {
    /// Queued or running (`waiting`, `backuping`, `restoring`, `Pending`, `Running`, `BUILDING`).
    InProgress,
    /// Done (`succeed`, `Completed`, `COMPLETED`, `AVAILABLE`).
    Succeeded,
    /// Finished without a result (`failed`, `expired`, `deleted`, `Failed`, `FAILED`, `DISABLED`).
    Failed,
    /// A status string no document lists: treated as in progress, and reported as-is.
    Unknown,
}

/// One observation of a cloud operation, normalised across services.
#[derive(Debug, Clone, PartialEq)]
pub struct OpView {
    pub state: OpState,
    /// The raw cloud status string (`backuping`, `Running`, ...), for `.status.cloudStatus`.
    pub raw_status: String,
    /// Percent complete (0-100) when the cloud gives it.
    pub progress: Option<f64>,
    /// Size in bytes (DCS bytes, DDS KB, TaurusDB MB, normalised).
    pub size_bytes: Option<i64>,
    /// Why it failed, when the cloud says (`fail_reason`, record `error_code`).
    pub message: Option<String>,
}

/// Maps DCS backup/restore record statuses (`waiting`, `backuping`, `restoring`, `succeed`, ...).
pub fn dcs_state(status: &str) -> OpState {
    match status.to_ascii_lowercase().as_str() {
        "waiting" | "backuping" | "restoring" => OpState::InProgress,
        "succeed" | "success" => OpState::Succeeded,
        "failed" | "expired" | "deleted" => OpState::Failed,
        _ => OpState::Unknown,
    }
}

/// Maps DDS/TaurusDB job statuses (`Pending`, `Running`, `Completed`, `Failed`).
pub fn job_state(status: &str) -> OpState {
    match status.to_ascii_lowercase().as_str() {
        "pending" | "running" | "init" => OpState::InProgress,
        "completed" | "success" => OpState::Succeeded,
        "failed" | "fail" => OpState::Failed,
        _ => OpState::Unknown,
    }
}

/// Maps DDS/TaurusDB backup statuses (`BUILDING`, `COMPLETED`, `AVAILABLE`, `FAILED`, `DISABLED`).
pub fn db_backup_state(status: &str) -> OpState {
    match status.to_ascii_uppercase().as_str() {
        "BUILDING" => OpState::InProgress,
        "COMPLETED" | "AVAILABLE" => OpState::Succeeded,
        "FAILED" | "DISABLED" => OpState::Failed,
        _ => OpState::Unknown,
    }
}

/// Parses progress figures such as `"9%"`, `"100.00"`, `"45"`; `None` for empty or garbage.
pub fn parse_progress(raw: &str) -> Option<f64> {
    let p: f64 = raw.trim().trim_end_matches('%').trim().parse().ok()?;
    (p.is_finite() && (0.0..=100.0).contains(&p)).then_some(p)
}

/// Sizes reported in a unit, normalised to bytes without overflow.
pub fn to_bytes(value: f64, unit_bytes: i64) -> Option<i64> {
    let b = value * unit_bytes as f64;
    (b.is_finite() && b >= 0.0 && b < i64::MAX as f64).then_some(b as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_mappings_cover_every_documented_value() {
        for s in ["waiting", "backuping", "restoring"] {
            assert_eq!(dcs_state(s), OpState::InProgress, "{s}");
        }
        assert_eq!(dcs_state("succeed"), OpState::Succeeded);
        for s in ["failed", "expired", "deleted"] {
            assert_eq!(dcs_state(s), OpState::Failed, "{s}");
        }
        assert_eq!(dcs_state("weird"), OpState::Unknown);
        for s in ["Pending", "Running", "RUNNING"] {
            assert_eq!(job_state(s), OpState::InProgress, "{s}");
        }
        assert_eq!(job_state("Completed"), OpState::Succeeded);
        assert_eq!(job_state("Failed"), OpState::Failed);
        assert_eq!(job_state(""), OpState::Unknown);
        assert_eq!(db_backup_state("BUILDING"), OpState::InProgress);
        assert_eq!(db_backup_state("COMPLETED"), OpState::Succeeded);
        assert_eq!(db_backup_state("available"), OpState::Succeeded);
        assert_eq!(db_backup_state("FAILED"), OpState::Failed);
        assert_eq!(db_backup_state("DISABLED"), OpState::Failed);
    }

    #[test]
    fn progress_and_sizes() {
        assert_eq!(parse_progress("9%"), Some(9.0));
        assert_eq!(parse_progress("100.00"), Some(100.0));
        assert_eq!(parse_progress(""), None);
        assert_eq!(parse_progress("NaN"), None);
        assert_eq!(parse_progress("250"), None);
        assert_eq!(to_bytes(2.0, 1024), Some(2048));
        assert_eq!(to_bytes(1.5, 1024 * 1024), Some(1_572_864));
        assert_eq!(to_bytes(-1.0, 1), None);
        assert_eq!(to_bytes(f64::MAX, 1024), None);
    }
}
