//! `DcsRestore`: restores a DCS instance from one of its backups. Deleting it never touches the cloud.

use std::time::Instant;

use crate::cloud::client::CloudClient;
use crate::cloud::dcs::DcsBackupRecord;
use crate::cloud::error::Error as CloudError;
use crate::cloud::types::{OpState, OpView};
use crate::controller::context::Context;
use crate::controller::dcs::{self, has_marker, list_key, not_before_deadline, remark_with_marker};
use crate::controller::decide::{Failure, Observation, OpIds, reason};
use crate::controller::error::{Error, Result};
use crate::controller::operation::{Created, Found, Operation, Prepared, timeout_of};
use crate::controller::restore_backup::{self, Wanted};
use crate::crd::{DcsBackup, DcsRestore, OperationStatus};

/// Reason when the backup to restore belongs to another instance or cannot be restored.
pub use crate::controller::state::reason::BACKUP_UNUSABLE;

impl DcsRestore {
    /// Resolves the backup id: from `backupId`, or from the referenced `DcsBackup` once it succeeded.
    async fn backup_id(&self, ctx: &Context) -> Result<Result<Wanted, Observation>> {
        if let Some(id) = &self.spec.backup_id {
            return Ok(Ok(restore_backup::by_id(self, id)));
        }
        let Some(r) = &self.spec.backup_ref else {
            let message = "exactly one of backupRef and backupId must be set".to_string();
            return Ok(Err(Observation::Invalid {
                reason: reason::INVALID_SPEC,
                message,
            }));
        };
        restore_backup::by_ref::<DcsBackup, _>(ctx, self, &self.spec.instance_id, &r.name).await
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
            let grace = ctx.settings.visibility_grace;
            return Ok(Err(restore_backup::not_listed(
                &self.spec.instance_id,
                &wanted,
                grace,
            )));
        };
        let id = wanted.id;
        match record.view().state {
            OpState::Succeeded => Ok(Ok(Prepared::backup(id))),
            OpState::InProgress | OpState::Unknown => {
                let message = format!(
                    "waiting for backup {id} to finish (cloud status {})",
                    record.status
                );
                Ok(Err(restore_backup::waiting(message)))
            }
            OpState::Failed => {
                let message = format!(
                    "backup {id} cannot be restored: its cloud status is {}",
                    record.status
                );
                Ok(Err(restore_backup::unusable(message)))
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
            .backup_id
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
