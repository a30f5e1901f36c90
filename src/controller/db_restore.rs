//! `DdsRestore` and `TaurusDbRestore`: in-place restores, from a backup or to a point in time,
//! followed by their job. They differ in their service only (the cloud layer has the two bodies).
//!
//! A restore overwrites the instance, so it is sent at most once per resource: its request carries
//! no marker (neither API takes a description), so after an interrupted request the restore's job
//! is looked for in the DDS job list ([`search`]); where it cannot be found, the resource ends
//! `RestoreOutcomeUnknown` (decided in `decide.rs`) and nothing is sent again.

use std::time::Duration;

use jiff::{Timestamp, tz::TimeZone};

use crate::cloud::account::CloudKind;
use crate::cloud::client::CloudClient;
use crate::cloud::error::{Error as CloudError, ErrorClass};
use crate::cloud::restore_wire::{ListedJob, RestoreFrom, RestoreWindow};
use crate::cloud::types::{OpState, OpView};
use crate::controller::context::Context;
use crate::controller::db_backup::DbService;
use crate::controller::decide::{Failure, Observation, OpIds, reason};
use crate::controller::error::{Error, Result};
use crate::controller::operation::{Created, Found, Prepared, Search, Trace};
use crate::controller::restore_backup::{self, Wanted};
use crate::crd::restore_rules::{RestoreSource, parse_restore_time};
use crate::crd::{BackupResource, OperationStatus};

/// How far the cloud's clock may be behind the operator's: a restore job created up to this long
/// before the request was recorded (`createRequestedAt`) may still be the request's.
pub const JOB_CLOCK_SKEW: Duration = Duration::from_secs(30);

/// What tells `DdsRestore` and `TaurusDbRestore` apart for the controller.
pub trait RestoreKind: BackupResource {
    const SERVICE: DbService;
    /// The backup kind `backupRef` names (`DdsBackup`, `TaurusDbBackup`).
    type Backup: BackupResource;

    /// The spec's source fields.
    fn restore_source(&self) -> RestoreSource<'_>;

    /// The instance whose data is restored: `sourceInstanceId`, else the target.
    fn source_instance(&self) -> &str {
        self.restore_source()
            .source_instance_id
            .unwrap_or(self.instance_id())
    }
}

/// What a restore restores, checked against the cloud: a succeeded backup of the target instance,
/// or a point in time inside a restorable window.
pub async fn precheck<K: RestoreKind>(
    obj: &K,
    ctx: &Context,
    cloud: &CloudClient,
) -> Result<Result<Prepared, Observation>> {
    let source = obj.restore_source();
    if let Some(raw) = source.restore_time {
        let Some(at) = parse_restore_time(raw) else {
            return Err(Error::Internal(
                "restoreTime passed validation unparsed".into(),
            ));
        };
        return Ok(check_time(obj, cloud, at).await);
    }
    let target = obj.instance_id();
    let wanted = match (source.backup_id, source.backup_ref) {
        (Some(id), _) => restore_backup::by_id(obj, id),
        (None, Some(name)) => {
            match restore_backup::by_ref::<K::Backup, _>(ctx, obj, target, name).await? {
                Ok(wanted) => wanted,
                Err(obs) => return Ok(Err(obs)),
            }
        }
        (None, None) => return Err(Error::Internal("restore without a source".into())),
    };
    Ok(check_backup::<K>(obj, ctx, cloud, wanted).await)
}

/// The backup must be listed for the target instance and complete.
async fn check_backup<K: RestoreKind>(
    obj: &K,
    ctx: &Context,
    cloud: &CloudClient,
    wanted: Wanted,
) -> Result<Prepared, Observation> {
    let target = obj.instance_id();
    let record = match K::SERVICE.get(cloud, &wanted.id).await {
        Ok(record) => record,
        Err(e) => return Err(Observation::LookupFailed(Failure::of(&e))),
    };
    let Some(record) = record else {
        let grace = ctx.settings.visibility_grace;
        return Err(restore_backup::not_listed(target, &wanted, grace));
    };
    if let Some(other) = record.instance_id.as_deref().filter(|i| *i != target) {
        return Err(restore_backup::unusable(format!(
            "backup {} belongs to instance {other}, not {target}: a restore only takes backups of \
             its own instance",
            wanted.id
        )));
    }
    let (id, status) = (wanted.id, &record.status);
    match record.view().state {
        OpState::Succeeded => Ok(Prepared::backup(id)),
        OpState::InProgress | OpState::Unknown => Err(restore_backup::waiting(format!(
            "waiting for backup {id} to finish (cloud status {status})"
        ))),
        OpState::Failed => Err(restore_backup::unusable(format!(
            "backup {id} cannot be restored: its cloud status is {status}"
        ))),
    }
}

/// The point in time must lie in a window the cloud reports for its UTC day.
async fn check_time<K: RestoreKind>(
    obj: &K,
    cloud: &CloudClient,
    at: Timestamp,
) -> Result<Prepared, Observation> {
    let source = obj.source_instance();
    let day = at.to_zoned(TimeZone::UTC).date();
    let windows = match K::SERVICE.restore_windows(cloud, source, day).await {
        Ok(windows) => windows,
        Err(e) => {
            return Err(refusal::<K>(
                cloud,
                &e,
                "cannot check restoreTime against the cloud's restorable windows",
            ));
        }
    };
    if windows.iter().any(|w| w.contains(at)) {
        return Ok(Prepared {
            backup_id: None,
            restore_time: Some(at),
        });
    }
    Err(Observation::Invalid {
        reason: reason::INVALID_RESTORE_TIME,
        message: outside_windows(at, source, day, &windows),
    })
}

/// Why `at` cannot be restored, with the windows of that day nearest to it.
pub fn outside_windows(
    at: Timestamp,
    instance: &str,
    day: jiff::civil::Date,
    windows: &[RestoreWindow],
) -> String {
    let at_text = crate::controller::decide::restore_time_text(at);
    if windows.is_empty() {
        return format!(
            "restoreTime {at_text} cannot be restored: the cloud reports no restorable window for \
             instance {instance} on {day} (UTC)"
        );
    }
    let distance = |w: &RestoreWindow| {
        let ms = at.as_millisecond();
        (w.start.as_millisecond() - ms)
            .max(ms - w.end.as_millisecond())
            .max(0)
    };
    let mut nearest: Vec<&RestoreWindow> = windows.iter().collect();
    nearest.sort_by_key(|w| distance(w));
    nearest.truncate(3);
    nearest.sort_by_key(|w| w.start);
    let listed: Vec<String> = nearest
        .iter()
        .map(|w| format!("{} to {}", w.start, w.end))
        .collect();
    format!(
        "restoreTime {at_text} lies outside every restorable window the cloud reports for instance \
         {instance} on {day} (UTC); nearest: {}",
        listed.join(", ")
    )
}

/// What a failed call means for a restore that has not started: the cloud's refusal of the call
/// fails it (with a note on OTC, where TaurusDB does not document these calls), anything else is
/// retried.
fn refusal<K: RestoreKind>(cloud: &CloudClient, e: &CloudError, what: &str) -> Observation {
    if !is_refusal(e) {
        return Observation::LookupFailed(Failure::of(e));
    }
    Observation::Invalid {
        reason: reason::CLOUD_ERROR,
        message: format!("{what}: {}{}", e.summary(), otc_note::<K>(cloud)),
    }
}

/// The cloud answered that it will not do this (4xx, neither busy, throttled nor credentials).
fn is_refusal(e: &CloudError) -> bool {
    matches!(
        e,
        CloudError::Api {
            status: 400..=499,
            ..
        }
    ) && matches!(e.class(), ErrorClass::NotFound | ErrorClass::Terminal)
}

/// Where the cloud is OTC and the service TaurusDB: the documented limitation.
fn otc_note<K: RestoreKind>(cloud: &CloudClient) -> &'static str {
    if K::SERVICE == DbService::Taurus && cloud.account().cloud == CloudKind::Otc {
        ". Open Telekom Cloud does not document TaurusDB restores into an existing instance \
         (Huawei Cloud only); restore to a new instance in the OTC console instead"
    } else {
        ""
    }
}

/// Starts the restore: the job id, or the cloud's error (a TaurusDB refusal on OTC names the
/// limitation).
pub async fn create<K: RestoreKind>(
    obj: &K,
    cloud: &CloudClient,
    prepared: &Prepared,
) -> Result<Result<Created, CloudError>> {
    let from = match (&prepared.backup_id, prepared.restore_time) {
        (Some(id), _) => RestoreFrom::Backup(id.clone()),
        (None, Some(at)) => RestoreFrom::Time {
            source_instance: obj.source_instance().to_string(),
            at,
        },
        (None, None) => return Err(Error::Internal("restore created without a source".into())),
    };
    let started = K::SERVICE.restore(cloud, obj.instance_id(), &from).await;
    Ok(match started {
        Ok(job) => Ok(Created::New(OpIds {
            job_id: Some(job),
            backup_id: prepared.backup_id.clone(),
            restore_id: None,
        })),
        Err(e) => Err(with_note::<K>(cloud, e)),
    })
}

/// `e` with the OTC note appended when it is a refusal the note explains.
fn with_note<K: RestoreKind>(cloud: &CloudClient, e: CloudError) -> CloudError {
    let note = otc_note::<K>(cloud);
    match e {
        CloudError::Api {
            service,
            operation,
            status,
            code,
            message,
            request_id,
        } if !note.is_empty()
            && matches!(e.class(), ErrorClass::NotFound | ErrorClass::Terminal) =>
        {
            CloudError::Api {
                service,
                operation,
                status,
                code,
                message: format!("{message}{note}"),
                request_id,
            }
        }
        e => e,
    }
}

/// The DDS job name of an in-place restore of this source (restore-and-schedule.md A.4).
fn job_name<K: RestoreKind>(obj: &K) -> &'static str {
    if obj.restore_source().restore_time.is_some() {
        "MongodbPitr2CurrentInstance"
    } else {
        "MongodbRestoreData2CurrentInstance"
    }
}

/// Looks for the job an interrupted restore request may have started: a restore job of the target
/// instance, of the source's kind, created no earlier than the request (less [`JOB_CLOCK_SKEW`]).
/// Only DDS lists jobs (Huawei Cloud; OTC does not document it); TaurusDB documents no job name
/// for an in-place restore. One candidate is adopted; several cannot be told apart.
pub async fn search<K: RestoreKind>(
    obj: &K,
    cloud: &CloudClient,
    trace: &Trace<'_>,
) -> Result<Search, CloudError> {
    let Some(requested) = trace.requested_at else {
        return Ok(Search::Listed(Vec::new()));
    };
    if K::SERVICE == DbService::Taurus {
        return Ok(Search::Impossible(
            "TaurusDB documents no job name for an in-place restore, so its job list cannot tell \
             the restore's job apart"
                .into(),
        ));
    }
    let name = job_name(obj);
    let since = requested - JOB_CLOCK_SKEW;
    let until = Timestamp::now() + JOB_CLOCK_SKEW;
    let jobs = match cloud.dds().list_jobs(name, since, until).await {
        Ok(jobs) => jobs,
        Err(e) if is_refusal(&e) => {
            return Ok(Search::Impossible(format!(
                "the cloud does not list its jobs ({})",
                e.summary()
            )));
        }
        Err(e) => return Err(e),
    };
    let target = obj.instance_id();
    let mut found = candidates(jobs, name, target, since);
    match found.len() {
        0 | 1 => Ok(Search::Listed(
            found.pop().map(adopted).into_iter().collect(),
        )),
        n => {
            let ids: Vec<&str> = found.iter().map(|j| j.id.as_str()).collect();
            Ok(Search::Impossible(format!(
                "{n} {name} jobs of instance {target} were created since {since} ({}), and which \
                 one is this resource's cannot be told",
                ids.join(", ")
            )))
        }
    }
}

/// The jobs that may be the restore's: named `name`, of instance `target` (a job without an
/// instance or a creation time is not), created at or after `since`.
pub fn candidates(
    jobs: Vec<ListedJob>,
    name: &str,
    target: &str,
    since: Timestamp,
) -> Vec<ListedJob> {
    jobs.into_iter()
        .filter(|j| j.name.eq_ignore_ascii_case(name))
        .filter(|j| j.instance_id.as_deref() == Some(target))
        .filter(|j| j.created.is_some_and(|c| c >= since))
        .collect()
}

fn adopted(job: ListedJob) -> Found {
    Found {
        view: Some(job.view()),
        gone: false,
        ids: OpIds {
            job_id: Some(job.id),
            backup_id: None,
            restore_id: None,
        },
    }
}

/// The restore's job; `None` while the cloud does not show it (a new job takes seconds to appear).
pub async fn poll<K: RestoreKind>(
    cloud: &CloudClient,
    status: &OperationStatus,
) -> Result<Option<OpView>, CloudError> {
    let Some(job_id) = status.job_id.as_deref() else {
        return Ok(None);
    };
    match K::SERVICE.job(cloud, job_id).await {
        Ok(job) => Ok(Some(job.view())),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

impl DbService {
    async fn restore(
        self,
        cloud: &CloudClient,
        target: &str,
        from: &RestoreFrom,
    ) -> Result<String, CloudError> {
        match self {
            Self::Dds => cloud.dds().restore(target, from).await,
            Self::Taurus => cloud.taurus().restore(target, from).await,
        }
    }

    async fn restore_windows(
        self,
        cloud: &CloudClient,
        instance: &str,
        day: jiff::civil::Date,
    ) -> Result<Vec<RestoreWindow>, CloudError> {
        match self {
            Self::Dds => cloud.dds().restore_windows(instance, day).await,
            Self::Taurus => cloud.taurus().restore_windows(instance, day).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(id: &str, name: &str, instance: Option<&str>, created: Option<&str>) -> ListedJob {
        ListedJob {
            id: id.into(),
            name: name.into(),
            instance_id: instance.map(str::to_string),
            status: "Running".into(),
            progress: None,
            fail_reason: None,
            created: created.map(|c| c.parse().unwrap()),
        }
    }

    #[test]
    fn only_a_restore_job_of_the_instance_created_since_the_request_is_a_candidate() {
        let name = "MongodbRestoreData2CurrentInstance";
        let since: Timestamp = "2026-01-02T03:04:00Z".parse().unwrap();
        let jobs = vec![
            job("ours", name, Some("i1"), Some("2026-01-02T03:04:00Z")),
            job("earlier", name, Some("i1"), Some("2026-01-02T03:03:59Z")),
            job(
                "other-instance",
                name,
                Some("i2"),
                Some("2026-01-02T03:05:00Z"),
            ),
            job(
                "pitr",
                "MongodbPitr2CurrentInstance",
                Some("i1"),
                Some("2026-01-02T03:05:00Z"),
            ),
            job("no-instance", name, None, Some("2026-01-02T03:05:00Z")),
            job("no-time", name, Some("i1"), None),
            job(
                "lowercase",
                &name.to_lowercase(),
                Some("i1"),
                Some("2026-01-02T03:06:00Z"),
            ),
        ];
        let ids: Vec<String> = candidates(jobs, name, "i1", since)
            .into_iter()
            .map(|j| j.id)
            .collect();
        assert_eq!(ids, ["ours", "lowercase"]);
    }

    #[test]
    fn the_message_for_a_time_outside_the_windows_lists_the_nearest() {
        let t = |s: &str| -> Timestamp { s.parse().unwrap() };
        let w = |a: &str, b: &str| RestoreWindow {
            start: t(a),
            end: t(b),
        };
        let day = jiff::civil::date(2026, 1, 2);
        let windows = [
            w("2026-01-02T00:00:00Z", "2026-01-02T01:00:00Z"),
            w("2026-01-02T02:00:00Z", "2026-01-02T03:00:00Z"),
            w("2026-01-02T05:00:00Z", "2026-01-02T06:00:00Z"),
            w("2026-01-02T20:00:00Z", "2026-01-02T21:00:00Z"),
        ];
        let msg = outside_windows(t("2026-01-02T04:00:00.5Z"), "i1", day, &windows);
        assert!(
            msg.starts_with("restoreTime 2026-01-02T04:00:00.5Z lies outside"),
            "{msg}"
        );
        assert!(
            msg.ends_with(
                "nearest: 2026-01-02T00:00:00Z to 2026-01-02T01:00:00Z, \
                 2026-01-02T02:00:00Z to 2026-01-02T03:00:00Z, 2026-01-02T05:00:00Z to \
                 2026-01-02T06:00:00Z"
            ),
            "the three nearest, in order: {msg}"
        );
        let none = outside_windows(t("2026-01-02T04:00:00Z"), "i1", day, &[]);
        assert!(
            none.contains("no restorable window for instance i1 on 2026-01-02"),
            "{none}"
        );
    }
}
