//! `DdsRestore` and `TaurusDbRestore`: in-place restores, from a backup or to a point in time,
//! followed by their job. They differ in their service only (the cloud layer has the two bodies).
//! What they restore is checked first ([`restore_source`](super::restore_source)).
//!
//! A restore overwrites the instance, so it is sent at most once per resource: its request carries
//! no marker (neither API takes a description), so after an interrupted request the restore's job
//! is looked for in the DDS job list ([`search`]); where it cannot be found, the resource ends
//! `RestoreOutcomeUnknown` (decided in `decide.rs`) and nothing is sent again.

use std::time::Duration;

use jiff::Timestamp;

use crate::cloud::client::CloudClient;
use crate::cloud::error::{Error as CloudError, ErrorClass};
use crate::cloud::restore_wire::{ListedJob, RestoreFrom, RestoreWindow};
use crate::cloud::types::OpView;
use crate::controller::db_backup::DbService;
use crate::controller::decide::OpIds;
use crate::controller::error::{Error, Result};
use crate::controller::operation::{Created, Found, Prepared, Search, Trace};
use crate::controller::restore_source::{is_refusal, otc_note};
use crate::crd::restore_rules::RestoreSource;
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

    pub(crate) async fn restore_windows(
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
}
