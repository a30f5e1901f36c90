//! `DcsRestore`: restores a DCS instance from one of its backups. Deleting it never touches the cloud.

use std::time::{Duration, Instant};

use jiff::Timestamp;
use kube::api::Api;
use kube::{Resource, ResourceExt};

use crate::cloud::client::CloudClient;
use crate::cloud::dcs::DcsBackupRecord;
use crate::cloud::error::Error as CloudError;
use crate::cloud::types::{OpState, OpView};
use crate::controller::context::Context;
use crate::controller::dcs::{self, has_marker, list_key, not_before_deadline, remark_with_marker};
use crate::controller::decide::{Failure, Observation, OpIds, reason};
use crate::controller::error::{Error, Result};
use crate::controller::operation::{Created, Found, Operation, Prepared, timeout_of};
use crate::crd::{DcsBackup, DcsRestore, OperationStatus, Phase};

/// Reason when the backup to restore belongs to another instance or cannot be restored.
pub const BACKUP_UNUSABLE: &str = "BackupUnusable";

/// The backup a restore restores, and since when it should be listed by the cloud.
struct Wanted {
    id: String,
    /// The restore's creation, or the referenced `DcsBackup`'s completion if later: a list may
    /// lack the backup for a short while after that, not longer.
    since: Option<Timestamp>,
}

impl DcsRestore {
    /// Resolves the backup id: from `backupId`, or from the referenced `DcsBackup` once it succeeded.
    async fn backup_id(&self, ctx: &Context) -> Result<Result<Wanted, Observation>> {
        let created = self.meta().creation_timestamp.as_ref().map(|t| t.0);
        if let Some(id) = &self.spec.backup_id {
            return Ok(Ok(Wanted {
                id: id.clone(),
                since: created,
            }));
        }
        let Some(r) = &self.spec.backup_ref else {
            let message = "exactly one of backupRef and backupId must be set".to_string();
            return Ok(Err(Observation::Invalid {
                reason: reason::INVALID_SPEC,
                message,
            }));
        };
        let ns = self.namespace().ok_or(Error::MissingField("namespace"))?;
        let backups: Api<DcsBackup> = Api::namespaced(ctx.client.clone(), &ns);
        let Some(backup) = backups.get_opt(&r.name).await.map_err(Error::Kube)? else {
            let message = format!("waiting for DcsBackup {ns}/{} to exist", r.name);
            return Ok(Err(Observation::Waiting {
                reason: reason::WAITING_FOR_BACKUP,
                message,
            }));
        };
        if backup.spec.instance_id != self.spec.instance_id {
            let message = format!(
                "DcsBackup {} backs up instance {}, not {}: a restore only takes backups of its own instance",
                r.name, backup.spec.instance_id, self.spec.instance_id
            );
            return Ok(Err(Observation::Invalid {
                reason: BACKUP_UNUSABLE,
                message,
            }));
        }
        let status = backup.status.clone().unwrap_or_default();
        match (status.phase, status.backup_id) {
            (Some(Phase::Succeeded), Some(id)) => {
                let completed = status.completed_at.map(|t| t.0);
                Ok(Ok(Wanted {
                    id,
                    since: created.max(completed),
                }))
            }
            (Some(Phase::Failed), _) => {
                let message = format!("DcsBackup {} failed; there is nothing to restore", r.name);
                Ok(Err(Observation::Invalid {
                    reason: BACKUP_UNUSABLE,
                    message,
                }))
            }
            _ => {
                let message = format!("waiting for DcsBackup {} to succeed", r.name);
                Ok(Err(Observation::Waiting {
                    reason: reason::WAITING_FOR_BACKUP,
                    message,
                }))
            }
        }
    }

    /// The backup's record: from the list shared with other polls of the instance, or, when that
    /// lacks it, from a list fetched now (a shared list may predate a backup that just succeeded).
    async fn listed(
        &self,
        ctx: &Context,
        cloud: &CloudClient,
        id: &str,
    ) -> Result<Option<DcsBackupRecord>, CloudError> {
        let instance = &self.spec.instance_id;
        let find =
            |records: &[DcsBackupRecord]| records.iter().find(|r| r.backup_id == id).cloned();
        let asked = Instant::now();
        if let Some(record) = find(&dcs::backups(ctx, cloud, instance, None).await?) {
            return Ok(Some(record));
        }
        // Served again without a call when the list above was itself fetched just now.
        let fresh = dcs::backups(ctx, cloud, instance, Some(asked)).await?;
        Ok(find(&fresh))
    }

    /// A backup the cloud does not list for the instance (never existed, of another instance, or
    /// gone): unusable, once the cloud has had a short grace period to list it.
    fn not_listed(&self, ctx: &Context, wanted: &Wanted) -> Observation {
        let instance = &self.spec.instance_id;
        let grace = ctx.settings.visibility_grace;
        // A `since` ahead of this clock (skew) counts as just now.
        let missing_for = wanted
            .since
            .map(|t| Duration::try_from(Timestamp::now().duration_since(t)).unwrap_or_default());
        if missing_for.is_some_and(|m| m < grace) {
            let message = format!(
                "waiting for the cloud to list backup {} for instance {instance} (up to {}s)",
                wanted.id,
                grace.as_secs()
            );
            return Observation::Waiting {
                reason: reason::WAITING_FOR_BACKUP,
                message,
            };
        }
        let message = format!(
            "backup {} is not listed by the cloud for instance {instance}: it is of another instance, or gone",
            wanted.id
        );
        Observation::Invalid {
            reason: BACKUP_UNUSABLE,
            message,
        }
    }
}

impl Operation for DcsRestore {
    const NOUN: &'static str = "Restore";
    const PRECHECKS: bool = true;

    fn has_ids(status: &OperationStatus) -> bool {
        status.restore_id.is_some()
    }

    /// The backup must be a succeeded backup of this very instance, as the cloud lists it.
    async fn precheck(
        &self,
        ctx: &Context,
        cloud: &CloudClient,
    ) -> Result<Result<Prepared, Observation>> {
        let wanted = match self.backup_id(ctx).await? {
            Ok(wanted) => wanted,
            Err(obs) => return Ok(Err(obs)),
        };
        let record = match self.listed(ctx, cloud, &wanted.id).await {
            Ok(record) => record,
            Err(e) => {
                return Ok(Err(Observation::LookupFailed(Failure::of(&e))));
            }
        };
        let Some(record) = record else {
            return Ok(Err(self.not_listed(ctx, &wanted)));
        };
        let id = wanted.id;
        match record.view().state {
            OpState::Succeeded => Ok(Ok(Some(id))),
            OpState::InProgress | OpState::Unknown => {
                let message = format!(
                    "waiting for backup {id} to finish (cloud status {})",
                    record.status
                );
                Ok(Err(Observation::Waiting {
                    reason: reason::WAITING_FOR_BACKUP,
                    message,
                }))
            }
            OpState::Failed => {
                let message = format!(
                    "backup {id} cannot be restored: its cloud status is {}",
                    record.status
                );
                Ok(Err(Observation::Invalid {
                    reason: BACKUP_UNUSABLE,
                    message,
                }))
            }
        }
    }

    async fn create(
        &self,
        ctx: &Context,
        cloud: &CloudClient,
        marker: &str,
        prepared: &Prepared,
    ) -> Result<Result<Created, CloudError>> {
        let backup_id = prepared
            .clone()
            .ok_or_else(|| Error::Internal("restore created without a resolved backup".into()))?;
        let remark = remark_with_marker(self.spec.remark.as_deref(), marker);
        let created = cloud
            .dcs()
            .create_restore(&self.spec.instance_id, &backup_id, &remark)
            .await;
        ctx.dcs_restores
            .invalidate(&list_key(cloud, &self.spec.instance_id));
        Ok(created.map(|id| {
            Created::New(OpIds {
                restore_id: Some(id),
                backup_id: Some(backup_id),
                job_id: None,
            })
        }))
    }

    async fn find(
        &self,
        ctx: &Context,
        cloud: &CloudClient,
        marker: &str,
    ) -> Result<Vec<Found>, CloudError> {
        ctx.dcs_restores
            .invalidate(&list_key(cloud, &self.spec.instance_id));
        let records = dcs::restores(ctx, cloud, &self.spec.instance_id, None).await?;
        let mut found: Vec<_> = records
            .iter()
            .filter(|r| has_marker(r.remark.as_deref(), marker))
            .collect();
        found.sort_by(|a, b| a.created_at.cmp(&b.created_at));
        Ok(found
            .into_iter()
            .map(|r| Found {
                ids: OpIds {
                    restore_id: Some(r.restore_id.clone()),
                    backup_id: r.backup_id.clone(),
                    job_id: None,
                },
                view: Some(r.view()),
                gone: false,
            })
            .collect())
    }

    async fn poll(
        &self,
        ctx: &Context,
        cloud: &CloudClient,
        status: &OperationStatus,
    ) -> Result<Option<OpView>, CloudError> {
        let Some(id) = status.restore_id.as_deref() else {
            return Ok(None);
        };
        let not_before = not_before_deadline(status, timeout_of(self));
        let records = dcs::restores(ctx, cloud, &self.spec.instance_id, not_before).await?;
        Ok(records
            .iter()
            .find(|r| r.restore_id == id)
            .map(|r| r.view()))
    }
}
