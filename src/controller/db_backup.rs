//! `DdsBackup` and `TaurusDbBackup`: DDS and TaurusDB backups work alike (create → job → record).

use crate::cloud::client::CloudClient;
use crate::cloud::error::Error as CloudError;
use crate::cloud::job::{CreatedBackup, DbBackup, Job};
use crate::cloud::types::{OpState, OpView};
use crate::controller::context::Context;
use crate::controller::decide::OpIds;
use crate::controller::error::Result;
use crate::controller::operation::{Created, Found, MARKER_PREFIX, Operation, Prepared};
use crate::controller::seed;
use crate::crd::{BackupResource, DdsBackup, OperationStatus, TaurusDbBackup};

/// Which of the two services.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbService {
    Dds,
    Taurus,
}

impl DbService {
    async fn create(
        self,
        cloud: &CloudClient,
        instance: &str,
        name: &str,
        description: &str,
    ) -> Result<CreatedBackup, CloudError> {
        match self {
            Self::Dds => cloud.dds().create_backup(instance, name, description).await,
            Self::Taurus => {
                cloud
                    .taurus()
                    .create_backup(instance, name, description)
                    .await
            }
        }
    }

    pub(crate) async fn job(self, cloud: &CloudClient, id: &str) -> Result<Job, CloudError> {
        match self {
            Self::Dds => cloud.dds().get_job(id).await,
            Self::Taurus => cloud.taurus().get_job(id).await,
        }
    }

    async fn list(self, cloud: &CloudClient, instance: &str) -> Result<Vec<DbBackup>, CloudError> {
        match self {
            Self::Dds => cloud.dds().list_backups(instance).await,
            Self::Taurus => cloud.taurus().list_backups(instance).await,
        }
    }

    pub(crate) async fn get(
        self,
        cloud: &CloudClient,
        id: &str,
    ) -> Result<Option<DbBackup>, CloudError> {
        match self {
            Self::Dds => cloud.dds().get_backup(id).await,
            Self::Taurus => cloud.taurus().get_backup(id).await,
        }
    }

    pub async fn delete(self, cloud: &CloudClient, ids: &OpIds) -> Result<(), CloudError> {
        let Some(id) = ids.backup_id.as_deref() else {
            return Ok(());
        };
        match self {
            Self::Dds => cloud.dds().delete_backup(id).await,
            Self::Taurus => cloud.taurus().delete_backup(id).await,
        }
    }
}

/// The user's description with the resource marker appended (the cloud allows 256 characters).
pub fn description_with_marker(description: Option<&str>, marker: &str) -> String {
    match description.map(str::trim).filter(|d| !d.is_empty()) {
        Some(d) => format!("{d} {marker}"),
        None => marker.to_string(),
    }
}

pub async fn create(
    svc: DbService,
    cloud: &CloudClient,
    instance: &str,
    name: &str,
    description: &str,
) -> Result<OpIds, CloudError> {
    let created = svc.create(cloud, instance, name, description).await?;
    Ok(OpIds {
        backup_id: Some(created.backup_id),
        job_id: Some(created.job_id),
        restore_id: None,
    })
}

/// The listed backups whose description carries `marker`, oldest first.
fn marked(listed: &[DbBackup], marker: &str) -> Vec<Found> {
    let mut found: Vec<&DbBackup> = listed
        .iter()
        .filter(|b| b.description.as_deref().is_some_and(|d| d.contains(marker)))
        .collect();
    found.sort_by(|a, b| a.begin_time.cmp(&b.begin_time));
    found
        .into_iter()
        .map(|b| Found {
            view: Some(b.view()),
            gone: b.is_gone(),
            ids: OpIds {
                backup_id: Some(b.id.clone()),
                job_id: None,
                restore_id: None,
            },
        })
        .collect()
}

/// Polls the job while it runs (it carries progress), and reads the backup record once the job is
/// done (it carries the size). Without a job id (an adopted backup) the record alone is polled.
pub async fn poll(
    svc: DbService,
    cloud: &CloudClient,
    status: &OperationStatus,
) -> Result<Option<OpView>, CloudError> {
    let Some(backup_id) = status.backup_id.as_deref() else {
        return Ok(None);
    };
    let job = match status.job_id.as_deref() {
        Some(job_id) => match svc.job(cloud, job_id).await {
            Ok(job) => Some(job.view()),
            // A new job is invisible for a few seconds; the backup record may already say more.
            Err(e) if e.is_not_found() => None,
            Err(e) => return Err(e),
        },
        None => None,
    };
    match job {
        Some(view) if view.state != OpState::Succeeded => Ok(Some(view)),
        job => {
            let record = svc.get(cloud, backup_id).await?;
            Ok(match (job, record) {
                (Some(mut view), Some(record)) => {
                    view.size_bytes = record.size_bytes.or(view.size_bytes);
                    Some(view)
                }
                (Some(view), None) => Some(view),
                (None, record) => record.map(|r| r.view()),
            })
        }
    }
}

/// What tells `DdsBackup` and `TaurusDbBackup` apart for the controller: their service, and the
/// two spec fields a create needs (each kind has its own spec type).
pub trait DbKind: BackupResource {
    const SERVICE: DbService;

    /// `spec.backupName`, when the user chose one.
    fn chosen_name(&self) -> Option<&str>;

    /// `spec.description`.
    fn description(&self) -> Option<&str>;

    /// The name derived from the resource, unique to it.
    fn derived_name(&self) -> String;
}

impl DbKind for DdsBackup {
    const SERVICE: DbService = DbService::Dds;

    fn chosen_name(&self) -> Option<&str> {
        self.spec.backup_name.as_deref()
    }

    fn description(&self) -> Option<&str> {
        self.spec.description.as_deref()
    }

    fn derived_name(&self) -> String {
        self.default_backup_name()
    }
}

impl DbKind for TaurusDbBackup {
    const SERVICE: DbService = DbService::Taurus;

    fn chosen_name(&self) -> Option<&str> {
        self.spec.backup_name.as_deref()
    }

    fn description(&self) -> Option<&str> {
        self.spec.description.as_deref()
    }

    fn derived_name(&self) -> String {
        self.default_backup_name()
    }
}

/// `DdsBackup` and `TaurusDbBackup` differ only in their service: one implementation for both.
impl<K: DbKind> Operation for K {
    const NOUN: &'static str = "Backup";

    fn has_ids(status: &OperationStatus) -> bool {
        status.backup_id.is_some()
    }

    async fn create(
        &self,
        ctx: &Context,
        cloud: &CloudClient,
        marker: &str,
        _: &Prepared,
    ) -> Result<Result<Created, CloudError>> {
        let name = self
            .chosen_name()
            .map_or_else(|| self.derived_name(), str::to_string);
        let description = description_with_marker(self.description(), marker);
        let instance = self.instance_id();
        let refused = match create(K::SERVICE, cloud, instance, &name, &description).await {
            Ok(ids) => {
                // Jobs carry no history: one list of the instance's backups seeds the first poll.
                seed::after_db_create::<K>(ctx, cloud, instance).await;
                return Ok(Ok(Created::New(ids)));
            }
            Err(e) if e.code().is_some_and(|c| c.eq_ignore_ascii_case(NAME_TAKEN)) => e,
            Err(e) => return Ok(Err(e)),
        };
        let claim = NameClaim {
            name: &name,
            marker,
            derived: self.chosen_name().is_none(),
        };
        Ok(
            match find_own_by_name(K::SERVICE, cloud, instance, &claim).await {
                Ok(Some(found)) => Ok(Created::Existing(found)),
                // Not ours (or not listed): the cloud's refusal stands.
                Ok(None) => Err(refused),
                Err(lookup) => Err(lookup),
            },
        )
    }

    async fn find(
        &self,
        ctx: &Context,
        cloud: &CloudClient,
        marker: &str,
    ) -> Result<Vec<Found>, CloudError> {
        let listed = K::SERVICE.list(cloud, self.instance_id()).await?;
        // The adoption lookup lists the instance's history anyway.
        seed::offer::<K, _>(&ctx.scheduler, self.instance_id(), || {
            seed::db_backups(&listed)
        });
        Ok(marked(&listed, marker))
    }

    async fn poll(
        &self,
        _: &Context,
        cloud: &CloudClient,
        status: &OperationStatus,
    ) -> Result<Option<OpView>, CloudError> {
        poll(K::SERVICE, cloud, status).await
    }

    async fn delete(
        &self,
        _: &Context,
        cloud: &CloudClient,
        ids: &OpIds,
    ) -> Result<(), CloudError> {
        K::SERVICE.delete(cloud, ids).await
    }
}

/// DDS and TaurusDB refuse a create whose name another backup of the project has: "backup already
/// exists" (the OTC DDS docs require names unique in the project).
const NAME_TAKEN: &str = "DBS.201201";

/// The name a create asked for, and how to recognise the resource's own backup under it.
struct NameClaim<'a> {
    name: &'a str,
    marker: &'a str,
    /// The name was derived from the resource (so no other resource asks for it).
    derived: bool,
}

impl NameClaim<'_> {
    /// A backup under the name is the resource's own when its description carries the
    /// resource's marker, or, for a derived name, when it carries no marker at all (a
    /// description the cloud did not return); another resource's marker says it is not.
    fn is_own(&self, b: &DbBackup) -> bool {
        if b.name != self.name {
            return false;
        }
        match b.description.as_deref() {
            Some(d) if d.contains(self.marker) => true,
            Some(d) if d.contains(MARKER_PREFIX) => false,
            _ => self.derived,
        }
    }
}

/// The resource's own backup listed for `instance` under the claimed name, if any.
async fn find_own_by_name(
    svc: DbService,
    cloud: &CloudClient,
    instance: &str,
    claim: &NameClaim<'_>,
) -> Result<Option<Found>, CloudError> {
    let own = svc
        .list(cloud, instance)
        .await?
        .into_iter()
        .find(|b| claim.is_own(b) && !b.is_gone());
    Ok(own.map(|b| {
        tracing::warn!(backup_id = %b.id, name = claim.name, "name taken by an earlier create of this resource; adopting it");
        Found {
            view: Some(b.view()),
            gone: false,
            ids: OpIds {
                backup_id: Some(b.id),
                job_id: None,
                restore_id: None,
            },
        }
    }))
}

#[cfg(test)]
#[path = "db_backup_tests.rs"]
mod tests;
