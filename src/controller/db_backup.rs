//! `DdsBackup` and `TaurusDbBackup`: DDS and TaurusDB backups work alike (create → job → record).

use crate::cloud::client::CloudClient;
use crate::cloud::error::Error as CloudError;
use crate::cloud::job::{CreatedBackup, DbBackup, Job};
use crate::cloud::types::{OpState, OpView};
use crate::controller::context::Context;
use crate::controller::decide::OpIds;
use crate::controller::error::Result;
use crate::controller::operation::{Found, Operation, Prepared};
use crate::crd::{DdsBackup, OperationStatus, TaurusDbBackup};

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

    async fn job(self, cloud: &CloudClient, id: &str) -> Result<Job, CloudError> {
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

    async fn get(self, cloud: &CloudClient, id: &str) -> Result<Option<DbBackup>, CloudError> {
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

/// Backups of `instance` whose description carries `marker`, oldest first.
pub async fn find(
    svc: DbService,
    cloud: &CloudClient,
    instance: &str,
    marker: &str,
) -> Result<Vec<Found>, CloudError> {
    let mut found: Vec<DbBackup> = svc
        .list(cloud, instance)
        .await?
        .into_iter()
        .filter(|b| b.description.as_deref().is_some_and(|d| d.contains(marker)))
        .collect();
    found.sort_by(|a, b| a.begin_time.cmp(&b.begin_time));
    Ok(found
        .into_iter()
        .map(|b| Found {
            view: Some(b.view()),
            gone: b.is_gone(),
            ids: OpIds {
                backup_id: Some(b.id),
                job_id: None,
                restore_id: None,
            },
        })
        .collect())
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

/// `DdsBackup` and `TaurusDbBackup` differ only in their service: one implementation for both.
macro_rules! db_operation {
    ($kind:ty, $svc:expr) => {
        impl Operation for $kind {
            const NOUN: &'static str = "Backup";

            fn has_ids(status: &OperationStatus) -> bool {
                status.backup_id.is_some()
            }

            async fn create(
                &self,
                _: &Context,
                cloud: &CloudClient,
                marker: &str,
                _: &Prepared,
            ) -> Result<Result<OpIds, CloudError>> {
                // A default name is derived from the resource, so it is unique and valid for the cloud.
                let name = self
                    .spec
                    .backup_name
                    .clone()
                    .unwrap_or_else(|| self.default_backup_name());
                let description = description_with_marker(self.spec.description.as_deref(), marker);
                Ok(create($svc, cloud, &self.spec.instance_id, &name, &description).await)
            }

            async fn find(
                &self,
                _: &Context,
                cloud: &CloudClient,
                marker: &str,
            ) -> Result<Vec<Found>, CloudError> {
                find($svc, cloud, &self.spec.instance_id, marker).await
            }

            async fn poll(
                &self,
                _: &Context,
                cloud: &CloudClient,
                status: &OperationStatus,
            ) -> Result<Option<OpView>, CloudError> {
                poll($svc, cloud, status).await
            }

            async fn delete(
                &self,
                _: &Context,
                cloud: &CloudClient,
                ids: &OpIds,
            ) -> Result<(), CloudError> {
                $svc.delete(cloud, ids).await
            }
        }
    };
}

db_operation!(DdsBackup, DbService::Dds);
db_operation!(TaurusDbBackup, DbService::Taurus);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_carry_the_marker() {
        assert_eq!(
            description_with_marker(Some("weekly"), "k8s:1"),
            "weekly k8s:1"
        );
        assert_eq!(description_with_marker(None, "k8s:1"), "k8s:1");
        assert_eq!(description_with_marker(Some(" "), "k8s:1"), "k8s:1");
    }
}
