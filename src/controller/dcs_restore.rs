//! `DcsRestore`: restores a DCS instance from one of its backups. Deleting it never touches the cloud.

use kube::ResourceExt;
use kube::api::Api;

use crate::cloud::client::CloudClient;
use crate::cloud::error::Error as CloudError;
use crate::cloud::types::{OpState, OpView};
use crate::controller::context::Context;
use crate::controller::dcs::{self, has_marker, list_key, not_before_deadline, remark_with_marker};
use crate::controller::decide::{Failure, Observation, OpIds, reason};
use crate::controller::error::{Error, Result};
use crate::controller::operation::{Found, Operation, Prepared, timeout_of};
use crate::crd::{DcsBackup, DcsRestore, OperationStatus, Phase};

/// Reason when the backup to restore belongs to another instance or cannot be restored.
pub const BACKUP_UNUSABLE: &str = "BackupUnusable";

impl DcsRestore {
    /// Resolves the backup id: from `backupId`, or from the referenced `DcsBackup` once it succeeded.
    async fn backup_id(&self, ctx: &Context) -> Result<Result<String, Observation>> {
        if let Some(id) = &self.spec.backup_id {
            return Ok(Ok(id.clone()));
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
            (Some(Phase::Succeeded), Some(id)) => Ok(Ok(id)),
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
        let id = match self.backup_id(ctx).await? {
            Ok(id) => id,
            Err(obs) => return Ok(Err(obs)),
        };
        let records = match dcs::backups(ctx, cloud, &self.spec.instance_id, None).await {
            Ok(r) => r,
            Err(e) => {
                return Ok(Err(Observation::LookupFailed(Failure {
                    class: e.class(),
                    message: e.to_string(),
                    code: e.code().map(str::to_string),
                    request_id: e.request_id().map(str::to_string),
                })));
            }
        };
        let Some(record) = records.iter().find(|r| r.backup_id == id) else {
            let message = format!(
                "backup {id} is not a backup of instance {}",
                self.spec.instance_id
            );
            return Ok(Err(Observation::Invalid {
                reason: BACKUP_UNUSABLE,
                message,
            }));
        };
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
    ) -> Result<Result<OpIds, CloudError>> {
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
        Ok(created.map(|id| OpIds {
            restore_id: Some(id),
            backup_id: Some(backup_id),
            job_id: None,
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
