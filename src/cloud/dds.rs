//! DDS (MongoDB): manual backups (create, follow the job, list, delete) and in-place restores.

use http::Method;
use serde_json::json;

use super::client::CloudClient;
use super::db_api::DbApi;
use super::endpoints::Service;
use super::error::Error;
use super::job::{CreatedBackup, DbBackup, Job, parse_created};
use super::restore_wire::{ListedJob, RestoreFrom, RestoreWindow};
use super::transport::Request;
use super::wire::KB;

/// DDS calls of one account.
pub struct Dds<'a> {
    api: DbApi<'a>,
}

impl<'a> Dds<'a> {
    pub(crate) fn new(client: &'a CloudClient) -> Self {
        Self {
            api: DbApi {
                client,
                service: Service::Dds,
                unit_bytes: KB,
            },
        }
    }

    /// `POST /v3/{pid}/backups`. The name must be unique among the project's backups.
    pub async fn create_backup(
        &self,
        instance_id: &str,
        name: &str,
        description: &str,
    ) -> Result<CreatedBackup, Error> {
        const OP: &str = "create_backup";
        let body = json!({ "backup": {
            "instance_id": instance_id, "name": name, "description": description } });
        let url = self.api.url(&["backups"]).await?;
        let req = Request::new("dds", OP, Method::POST, url).json(&body);
        self.api
            .client
            .send(req, |reply| parse_created("dds", OP, &reply.body))
            .await
    }

    /// The job; an unknown (or not yet visible) job is an error of class `NotFound`.
    pub async fn get_job(&self, job_id: &str) -> Result<Job, Error> {
        self.api.get_job(job_id).await
    }

    /// Every backup of the instance, all pages, sizes in bytes.
    pub async fn list_backups(&self, instance_id: &str) -> Result<Vec<DbBackup>, Error> {
        self.api.list_backups(instance_id).await
    }

    /// The instance's most recent backups, one list page (for how long its backups take).
    pub async fn recent_backups(&self, instance_id: &str) -> Result<Vec<DbBackup>, Error> {
        self.api.recent_backups(instance_id).await
    }

    pub async fn get_backup(&self, backup_id: &str) -> Result<Option<DbBackup>, Error> {
        self.api.get_backup(backup_id).await
    }

    /// Deletes a backup (the cloud runs a job for it); a missing backup is class `NotFound`.
    pub async fn delete_backup(&self, backup_id: &str) -> Result<(), Error> {
        self.api.delete_backup(backup_id).await
    }

    /// `POST /v3/{pid}/instances/recovery` (answers 200 `{job_id}`): overwrites `target`.
    pub async fn restore(&self, target: &str, from: &RestoreFrom) -> Result<String, Error> {
        self.api.restore(target, from).await
    }

    /// The restorable windows of `instance_id` on the UTC day `date` (key `restore_time`).
    pub async fn restore_windows(
        &self,
        instance_id: &str,
        date: jiff::civil::Date,
    ) -> Result<Vec<RestoreWindow>, Error> {
        self.api.restore_windows(instance_id, date).await
    }

    /// `GET /v3.1/{pid}/jobs`: the jobs named `name` created between `since` and `until` (Huawei
    /// Cloud documents it; OTC does not).
    pub async fn list_jobs(
        &self,
        name: &str,
        since: jiff::Timestamp,
        until: jiff::Timestamp,
    ) -> Result<Vec<ListedJob>, Error> {
        self.api.list_jobs(name, since, until).await
    }
}
