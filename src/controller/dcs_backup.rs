//! `DcsBackup`: a manual backup of a DCS (Redis) instance.

use crate::cloud::client::CloudClient;
use crate::cloud::dcs::BackupFormat;
use crate::cloud::error::Error as CloudError;
use crate::cloud::types::OpView;
use crate::controller::context::Context;
use crate::controller::dcs::{self, has_marker, list_key, not_before_deadline, remark_with_marker};
use crate::controller::decide::OpIds;
use crate::controller::error::Result;
use crate::controller::operation::{Created, Found, Operation, Prepared, timeout_of};
use crate::crd::{DcsBackup, DcsBackupFormat, OperationStatus};

impl Operation for DcsBackup {
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
        let remark = remark_with_marker(self.spec.remark.as_deref(), marker);
        let format = self.spec.backup_format.map(|f| match f {
            DcsBackupFormat::Rdb => BackupFormat::Rdb,
            DcsBackupFormat::Aof => BackupFormat::Aof,
        });
        let created = cloud
            .dcs()
            .create_backup(&self.spec.instance_id, &remark, format)
            .await;
        // The next poll must not be served a list from before this backup existed.
        ctx.dcs_backups
            .invalidate(&list_key(cloud, &self.spec.instance_id));
        Ok(created.map(|id| {
            Created::New(OpIds {
                backup_id: Some(id),
                ..OpIds::default()
            })
        }))
    }

    async fn find(
        &self,
        ctx: &Context,
        cloud: &CloudClient,
        marker: &str,
    ) -> Result<Vec<Found>, CloudError> {
        ctx.dcs_backups
            .invalidate(&list_key(cloud, &self.spec.instance_id));
        let records = dcs::backups(ctx, cloud, &self.spec.instance_id, None).await?;
        let mut found: Vec<_> = records
            .iter()
            .filter(|r| has_marker(r.remark.as_deref(), marker))
            .collect();
        found.sort_by(|a, b| a.created_at.cmp(&b.created_at));
        Ok(found
            .into_iter()
            .map(|r| Found {
                ids: OpIds {
                    backup_id: Some(r.backup_id.clone()),
                    ..OpIds::default()
                },
                view: Some(r.view()),
                gone: r.is_gone(),
            })
            .collect())
    }

    async fn poll(
        &self,
        ctx: &Context,
        cloud: &CloudClient,
        status: &OperationStatus,
    ) -> Result<Option<OpView>, CloudError> {
        let Some(id) = status.backup_id.as_deref() else {
            return Ok(None);
        };
        let not_before = not_before_deadline(status, timeout_of(self));
        let records = dcs::backups(ctx, cloud, &self.spec.instance_id, not_before).await?;
        Ok(records.iter().find(|r| r.backup_id == id).map(|r| r.view()))
    }

    async fn delete(
        &self,
        _ctx: &Context,
        cloud: &CloudClient,
        ids: &OpIds,
    ) -> Result<(), CloudError> {
        match ids.backup_id.as_deref() {
            Some(id) => cloud.dcs().delete_backup(&self.spec.instance_id, id).await,
            None => Ok(()),
        }
    }
}
