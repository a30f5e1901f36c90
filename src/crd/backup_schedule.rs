//! `BackupSchedule`: backups of one instance on a cron schedule, in a time zone, with retention.
//!
//! Each run creates one backup resource of the template's kind (a child), which the existing
//! controllers carry out. The schedule finds its children by the label [`SCHEDULE_LABEL`]; it sets
//! no owner reference, so deleting a schedule keeps its backups.

use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::{CustomResource, KubeSchema, ResourceExt};
use serde::{Deserialize, Serialize};

use super::cron::CronSchedule;
use super::rules::*;
use super::schedule_rules::*;
use super::template::Template;
use super::{
    BackupResource, DcsBackup, DcsBackupSpec, DdsBackup, DdsBackupSpec, DeletionPolicy,
    TaurusDbBackup, TaurusDbBackupSpec,
};

/// Label on every child: the name of the schedule that made it.
pub const SCHEDULE_LABEL: &str = "backup.hwcloud.dev/schedule";
/// Annotation on every child: the run time it stands for (RFC 3339, UTC).
pub const SCHEDULED_TIME_ANNOTATION: &str = "backup.hwcloud.dev/scheduled-time";
/// A schedule's shard label, passed on to its children.
pub const SHARD_LABEL: &str = "backup.hwcloud.dev/shard";
/// DCS keeps at most 24 backups per instance (automatic and manual together), evicting the oldest.
pub const DCS_BACKUP_CAP: i32 = 24;
/// Above this `keepLast`, a DCS schedule gets a Warning condition about that cap.
pub const DCS_KEEP_LAST_WARN_ABOVE: i32 = 20;
/// Largest `retention.maxAge` (10 years).
pub const MAX_AGE_LIMIT: Duration = Duration::from_secs(87_600 * 3600);

fn default_time_zone() -> String {
    "UTC".into()
}

fn default_starting_deadline() -> String {
    "1h".into()
}

fn default_keep_failed() -> i32 {
    3
}

/// Desired schedule. Unlike a backup's spec, it may be edited.
// Repeated `printcolumn(type_ = "string", ..)` entries are distinct columns, not duplicates.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "backup.hwcloud.dev",
    version = "v1alpha1",
    kind = "BackupSchedule",
    namespaced,
    status = "BackupScheduleStatus",
    shortname = "bsch",
    category = "hwcloud",
    cel,
    doc = "Backups of a DCS, DDS or TaurusDB instance on a cron schedule, with retention.",
    validation = Rule::new(NAME_RULE).message(NAME_MSG),
    printcolumn(name = "Schedule", type_ = "string", json_path = ".spec.schedule"),
    printcolumn(name = "TimeZone", type_ = "string", json_path = ".spec.timeZone"),
    printcolumn(name = "Suspend", type_ = "boolean", json_path = ".spec.suspend"),
    printcolumn(name = "Last", type_ = "date", json_path = ".status.lastScheduleTime"),
    // A string, not a date: kubectl prints a date column as an age, and a time in the future as
    // `<invalid>` (seen on a real API server).
    printcolumn(name = "Next", type_ = "string", json_path = ".status.nextScheduleTime"),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp")
)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new(RETENTION_DELETE_RULE).message(RETENTION_DELETE_MSG))]
pub struct BackupScheduleSpec {
    /// When to back up, in the 5-field syntax of a Kubernetes CronJob ('minute hour day-of-month
    /// month day-of-week', e.g. `0 2 * * *` for 02:00 daily) or @hourly, @daily, @weekly, @monthly,
    /// @yearly. A sixth (seconds) field is refused.
    #[schemars(length(max = 100))]
    #[x_kube(validation = Rule::new(SCHEDULE_TZ_RULE).message(SCHEDULE_TZ_MSG))]
    #[x_kube(validation = Rule::new(SCHEDULE_SECONDS_RULE).message(SCHEDULE_SECONDS_MSG))]
    #[x_kube(validation = Rule::new(SCHEDULE_SHAPE_RULE).message(SCHEDULE_SHAPE_MSG))]
    pub schedule: String,
    /// IANA time zone the schedule is read in, e.g. `Europe/Berlin`. Default `UTC`.
    #[serde(default = "default_time_zone")]
    #[schemars(length(max = 64))]
    #[x_kube(validation = Rule::new(TIME_ZONE_RULE).message(TIME_ZONE_MSG))]
    pub time_zone: String,
    /// `true` stops new runs (runs that fall while suspended are skipped, not made up on resume).
    #[serde(default)]
    pub suspend: bool,
    /// How late a run may still start, e.g. after the operator was down (units h, m, s; 1s to 168h;
    /// default 1h). Only the most recent missed run is made up, and only within this deadline.
    #[serde(default = "default_starting_deadline")]
    #[schemars(length(max = 16))]
    #[x_kube(validation = Rule::new(TIMEOUT_FORMAT_RULE).message(TIMEOUT_FORMAT_MSG))]
    #[x_kube(validation = Rule::new(TIMEOUT_RANGE_RULE).message(TIMEOUT_RANGE_MSG))]
    pub starting_deadline: String,
    /// The backup each run creates: exactly one of `dcsBackup`, `ddsBackup`, `taurusDbBackup`.
    pub template: BackupTemplate,
    /// Which backups to keep; without it the schedule deletes nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention: Option<Retention>,
}

/// The backup each run creates. Its kind cannot change once the schedule exists.
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new(ONE_TEMPLATE_RULE).message(ONE_TEMPLATE_MSG))]
#[x_kube(validation = Rule::new(TEMPLATE_KIND_RULE).message(TEMPLATE_KIND_MSG))]
pub struct BackupTemplate {
    /// The spec of a `DcsBackup` (same fields and rules; `deletionPolicy` defaults to `Delete`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dcs_backup: Option<Template<DcsBackupSpec>>,
    /// The spec of a `DdsBackup` (same fields and rules; `deletionPolicy` defaults to `Delete`;
    /// `backupName`, if set, is a prefix: each run appends `-<yyyymmddhhmm>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dds_backup: Option<Template<DdsBackupSpec>>,
    /// The spec of a `TaurusDbBackup` (same fields and rules; `deletionPolicy` defaults to
    /// `Delete`; `backupName`, if set, is a prefix: each run appends `-<yyyymmddhhmm>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taurus_db_backup: Option<Template<TaurusDbBackupSpec>>,
}

/// Which of a schedule's backups to keep. Only `Succeeded` and `Failed` backups are ever deleted,
/// and never the newest `Succeeded` one.
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Retention {
    /// How many `Succeeded` backups to keep (1 to 1000). Failed ones never count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new(KEEP_LAST_RULE).message(KEEP_LAST_MSG))]
    pub keep_last: Option<i32>,
    /// `Succeeded` backups scheduled longer ago than this are deleted at the next run or
    /// completion, e.g. `720h` (units h, m, s; 1s to 87600h).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 16))]
    #[x_kube(validation = Rule::new(TIMEOUT_FORMAT_RULE).message(TIMEOUT_FORMAT_MSG))]
    #[x_kube(validation = Rule::new(MAX_AGE_RANGE_RULE).message(MAX_AGE_RANGE_MSG))]
    pub max_age: Option<String>,
    /// How many `Failed` backups to keep for inspection (0 to 1000, default 3), apart from `keepLast`.
    #[serde(default = "default_keep_failed")]
    #[x_kube(validation = Rule::new(KEEP_FAILED_RULE).message(KEEP_FAILED_MSG))]
    pub keep_failed: i32,
}

/// Observed state of a schedule.
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct BackupScheduleStatus {
    /// The run time of the latest backup this schedule created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_schedule_time: Option<Time>,
    /// When the newest `Succeeded` backup of this schedule completed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_successful_time: Option<Time>,
    /// The next run time; absent while suspended or invalid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_schedule_time: Option<Time>,
    /// The latest run time that did not run: the previous backup was still running, the run fell
    /// while suspended, or it was missed by more than `startingDeadline`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_skipped_time: Option<Time>,
    /// This schedule's backups that are not final yet.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub active: Vec<ActiveChild>,
    /// `Succeeded` backups of this schedule that exist.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kept_succeeded: Option<i32>,
    /// `Failed` backups of this schedule that exist.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kept_failed: Option<i32>,
    /// `Ready` (True while the schedule runs; reasons Scheduled, Suspended, InvalidSpec) and
    /// `Warning` (True when the spec is accepted but cannot be fully honoured, reason DcsBackupCap).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["type".into()]))]
    pub conditions: Vec<Condition>,
    /// The `metadata.generation` this status was computed from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}

/// The template's kind with its spec.
#[derive(Debug, Clone, Copy)]
pub enum TemplateKind<'a> {
    Dcs(&'a DcsBackupSpec),
    Dds(&'a DdsBackupSpec),
    Taurus(&'a TaurusDbBackupSpec),
}

impl BackupTemplate {
    /// The one kind set, or `None` when zero or several are (refused by the CRD's rule).
    pub fn kind(&self) -> Option<TemplateKind<'_>> {
        match (&self.dcs_backup, &self.dds_backup, &self.taurus_db_backup) {
            (Some(t), None, None) => Some(TemplateKind::Dcs(&t.0)),
            (None, Some(t), None) => Some(TemplateKind::Dds(&t.0)),
            (None, None, Some(t)) => Some(TemplateKind::Taurus(&t.0)),
            _ => None,
        }
    }
}

impl TemplateKind<'_> {
    /// The template's `deletionPolicy`.
    pub fn deletion_policy(self) -> DeletionPolicy {
        match self {
            Self::Dcs(s) => s.deletion_policy,
            Self::Dds(s) => s.deletion_policy,
            Self::Taurus(s) => s.deletion_policy,
        }
    }

    /// The CRD field name, for messages.
    pub fn field(self) -> &'static str {
        match self {
            Self::Dcs(_) => "dcsBackup",
            Self::Dds(_) => "ddsBackup",
            Self::Taurus(_) => "taurusDbBackup",
        }
    }

    /// The kind's own checks, with paths under `spec.template.<kind>`.
    fn validate(self) -> Result<(), String> {
        let checked = match self {
            Self::Dcs(s) => DcsBackup::new("template", s.clone()).validate(),
            Self::Dds(s) => DdsBackup::new("template", s.clone()).validate(),
            Self::Taurus(s) => TaurusDbBackup::new("template", s.clone()).validate(),
        };
        let prefix = format!("spec.template.{}.", self.field());
        checked.map_err(|e| {
            e.split("; ")
                .map(|one| one.replacen("spec.", &prefix, 1))
                .collect::<Vec<_>>()
                .join("; ")
        })
    }
}

impl BackupSchedule {
    /// The CRD's rules checked again in Rust, plus what CEL cannot check (the cron fields, the time
    /// zone's existence); `Ok` carries the parsed schedule.
    pub fn validate(&self) -> Result<CronSchedule, String> {
        let spec = &self.spec;
        let mut checks = Checks::default();
        checks.require(self.name_any().len() <= 63, "metadata.name", NAME_MSG);
        checks.max_len(&spec.schedule, SCHEDULE_MAX_LEN, "spec.schedule");
        checks.max_len(&spec.time_zone, TIME_ZONE_MAX_LEN, "spec.timeZone");
        checks.require(
            is_time_zone_name(&spec.time_zone),
            "spec.timeZone",
            TIME_ZONE_MSG,
        );
        let deadline = &spec.starting_deadline;
        checks.duration(
            deadline,
            "spec.startingDeadline",
            MAX_TIMEOUT_LIMIT,
            TIMEOUT_RANGE_MSG,
        );
        match spec.template.kind() {
            None => checks.require(false, "spec.template", ONE_TEMPLATE_MSG),
            Some(kind) => {
                if let Err(e) = kind.validate() {
                    add_all(&mut checks, &e);
                }
                if spec.retention.is_some() {
                    checks.require_spec(
                        kind.deletion_policy() == DeletionPolicy::Delete,
                        RETENTION_DELETE_MSG,
                    );
                }
            }
        }
        if let Some(r) = &spec.retention {
            retention_checks(&mut checks, r);
        }
        let parsed = CronSchedule::parse(&spec.schedule, &spec.time_zone);
        if let Err(e) = &parsed {
            // A malformed name was reported above; "unknown" would say it twice.
            let malformed_zone = !is_time_zone_name(&spec.time_zone);
            if !(malformed_zone && e.starts_with("spec.timeZone:")) {
                add_all(&mut checks, e);
            }
        }
        checks.finish()?;
        parsed
    }

    /// The Warning the spec earns without being refused: a DCS `keepLast` the cloud cannot keep.
    pub fn warning(&self) -> Option<String> {
        let keep = self.spec.retention.as_ref()?.keep_last?;
        let dcs = matches!(self.spec.template.kind(), Some(TemplateKind::Dcs(_)));
        (dcs && keep > DCS_KEEP_LAST_WARN_ABOVE).then(|| {
            format!(
                "retention.keepLast is {keep}, but DCS keeps at most {DCS_BACKUP_CAP} backups per \
                 instance (automatic and manual together) and deletes the oldest itself; keep at \
                 most {DCS_KEEP_LAST_WARN_ABOVE} to leave room for automatic backups"
            )
        })
    }

    /// `spec.startingDeadline` parsed (validated specs only; the default otherwise).
    pub fn starting_deadline(&self) -> Duration {
        parse_duration_or(&self.spec.starting_deadline, Duration::from_secs(3600))
    }
}

impl Retention {
    /// `maxAge` parsed (validated specs only).
    pub fn max_age(&self) -> Option<Duration> {
        let age = self.max_age.as_deref()?;
        super::duration::parse_duration_up_to(age, MAX_AGE_LIMIT).ok()
    }
}

/// Largest `startingDeadline` (the timeout's bound, with the same message).
const MAX_TIMEOUT_LIMIT: Duration = super::duration::MAX_TIMEOUT;

fn parse_duration_or(value: &str, fallback: Duration) -> Duration {
    super::duration::parse_duration(value).unwrap_or(fallback)
}

/// Records errors already formatted as `"<path>: <message>"`, joined by `"; "`.
fn add_all(checks: &mut Checks, errors: &str) {
    for one in errors.split("; ") {
        let (path, message) = one.split_once(": ").unwrap_or(("spec", one));
        checks.require(false, path, message);
    }
}

fn retention_checks(checks: &mut Checks, r: &Retention) {
    if let Some(keep) = r.keep_last {
        checks.require(
            (1..=1000).contains(&keep),
            "spec.retention.keepLast",
            KEEP_LAST_MSG,
        );
    }
    checks.require(
        (0..=1000).contains(&r.keep_failed),
        "spec.retention.keepFailed",
        KEEP_FAILED_MSG,
    );
    if let Some(age) = &r.max_age {
        checks.duration(
            age,
            "spec.retention.maxAge",
            MAX_AGE_LIMIT,
            MAX_AGE_RANGE_MSG,
        );
    }
}

/// A backup of this schedule that is not final yet (written by the operator only, so it carries no
/// validation rule: a CEL rule per item of an unbounded list exceeds the API server's cost budget).
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq, Eq)]
pub struct ActiveChild {
    /// Name of the backup resource in the schedule's namespace.
    pub name: String,
}
