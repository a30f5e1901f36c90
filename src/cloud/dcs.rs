//! DCS (Redis) backups and restores, over API v2 or the older v1.0 chosen per account.

use http::Method;
use serde::Deserialize;
use serde_json::json;

pub use super::dcs_records::{DcsBackupRecord, DcsRestoreRecord};

use super::account::DcsApiVersion;
use super::client::CloudClient;
use super::dcs_records::{parse_backup_page, parse_restore_page};
use super::endpoints::Service;
use super::error::Error;
use super::transport::Request;
use super::wire::{Loose, Page, Unique, decode, missing};

/// Records asked for per v2 list page: the documented maximum (1-1000).
const PAGE_SIZE_V2: usize = 1000;
/// Records asked for per v1.0 list page: its documents give `limit` no maximum, only "minimum 1,
/// default 10", so pages of the documented 10.
const PAGE_SIZE_V1: usize = 10;
/// A guard against a server that never says it is done: at most this many records are read.
const MAX_RECORDS: usize = 100_000;
const SERVICE: &str = "dcs";

/// The backup file format (v2 only; v1.0 always writes RDB).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackupFormat {
    Rdb,
    Aof,
}

impl BackupFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rdb => "rdb",
            Self::Aof => "aof",
        }
    }
}

/// DCS calls of one account.
pub struct Dcs<'a> {
    client: &'a CloudClient,
}

#[derive(Deserialize)]
struct Created {
    #[serde(default)]
    backup_id: Loose,
    #[serde(default)]
    restore_id: Loose,
}

impl<'a> Dcs<'a> {
    pub(crate) fn new(client: &'a CloudClient) -> Self {
        Self { client }
    }

    fn version(&self) -> DcsApiVersion {
        self.client.account().dcs_api_version
    }

    /// `/{v2|v1.0}/{project_id}/instances/{instance_id}/{rest...}`.
    async fn url(&self, instance_id: &str, rest: &[&str]) -> Result<url::Url, Error> {
        let pid = self.client.project_id().await?;
        let version = match self.version() {
            DcsApiVersion::V2 => "v2",
            DcsApiVersion::V1 => "v1.0",
        };
        let mut segments = vec![version, &pid, "instances", instance_id];
        segments.extend_from_slice(rest);
        self.client.url(Service::Dcs, &segments)
    }

    /// Starts a backup and returns its id. The remark should carry the caller's marker.
    pub async fn create_backup(
        &self,
        instance_id: &str,
        remark: &str,
        format: Option<BackupFormat>,
    ) -> Result<String, Error> {
        const OP: &str = "create_backup";
        let mut body = json!({ "remark": remark });
        if let (DcsApiVersion::V2, Some(format)) = (self.version(), format) {
            body["backup_format"] = json!(format.as_str());
        }
        let url = self.url(instance_id, &["backups"]).await?;
        let req = Request::new(SERVICE, OP, Method::POST, url).json(&body);
        self.client
            .send(req, |reply| {
                decode::<Created>(SERVICE, OP, &reply.body)?
                    .backup_id
                    .id()
                    .ok_or_else(|| missing(SERVICE, OP, "backup_id"))
            })
            .await
    }

    /// Every backup record of the instance (all pages); none when the cloud answers 204.
    pub async fn list_backups(&self, instance_id: &str) -> Result<Vec<DcsBackupRecord>, Error> {
        let id: fn(&DcsBackupRecord) -> &str = |r| &r.backup_id;
        self.list_all(
            instance_id,
            "backups",
            "list_backups",
            parse_backup_page,
            id,
        )
        .await
    }

    /// Deletes a backup file; a missing backup is an error of class `NotFound`.
    pub async fn delete_backup(&self, instance_id: &str, backup_id: &str) -> Result<(), Error> {
        // v2 answers 204, v1.0 answers 200 `{"message":""}`: any success will do.
        let url = self.url(instance_id, &["backups", backup_id]).await?;
        let req = Request::new(SERVICE, "delete_backup", Method::DELETE, url);
        self.client.send(req, |_| Ok(())).await
    }

    /// Starts restoring `backup_id` into the instance and returns the restore id.
    pub async fn create_restore(
        &self,
        instance_id: &str,
        backup_id: &str,
        remark: &str,
    ) -> Result<String, Error> {
        const OP: &str = "create_restore";
        let body = json!({ "backup_id": backup_id, "remark": remark });
        let url = self.url(instance_id, &["restores"]).await?;
        let req = Request::new(SERVICE, OP, Method::POST, url).json(&body);
        self.client
            .send(req, |reply| {
                decode::<Created>(SERVICE, OP, &reply.body)?
                    .restore_id
                    .id()
                    .ok_or_else(|| missing(SERVICE, OP, "restore_id"))
            })
            .await
    }

    /// Every restore record of the instance (all pages); none when the cloud answers 204.
    pub async fn list_restores(&self, instance_id: &str) -> Result<Vec<DcsRestoreRecord>, Error> {
        let id: fn(&DcsRestoreRecord) -> &str = |r| &r.restore_id;
        self.list_all(
            instance_id,
            "restores",
            "list_restores",
            parse_restore_page,
            id,
        )
        .await
    }

    /// Pages through a list: v2 with `offset` (0-based), v1.0 with `start` (1-based record
    /// number), both with `limit`. The list has no id filter, so callers match ids themselves.
    /// Each record comes once (by `id`) even when a new one shifts the pages while they are read.
    async fn list_all<T>(
        &self,
        instance_id: &str,
        kind: &str,
        operation: &'static str,
        parse: fn(&'static str, &[u8]) -> Result<Page<T>, Error>,
        id: fn(&T) -> &str,
    ) -> Result<Vec<T>, Error> {
        let base = self.url(instance_id, &[kind]).await?;
        let version = self.version();
        let page_size = match version {
            DcsApiVersion::V2 => PAGE_SIZE_V2,
            DcsApiVersion::V1 => PAGE_SIZE_V1,
        };
        let mut records = Unique::new();
        let mut seen = 0usize;
        for _ in 0..MAX_RECORDS / page_size {
            let mut url = base.clone();
            {
                let mut q = url.query_pairs_mut();
                match version {
                    DcsApiVersion::V2 => q.append_pair("offset", &seen.to_string()),
                    DcsApiVersion::V1 => q.append_pair("start", &(seen + 1).to_string()),
                };
                q.append_pair("limit", &page_size.to_string());
            }
            let req = Request::new(SERVICE, operation, Method::GET, url);
            let page = self
                .client
                .send(req, |reply| parse(operation, &reply.body))
                .await?;
            seen += page.raw_len;
            let last = match version {
                DcsApiVersion::V2 => page.is_last(seen, page_size),
                DcsApiVersion::V1 => page.is_last_if_total_may_count_the_page(seen, page_size),
            };
            let repeated = records.add_page(page.records, id);
            if last {
                return Ok(records.into_records());
            }
            if repeated {
                tracing::warn!(
                    instance_id,
                    operation,
                    "DCS list repeated a page; paging ignored?"
                );
                return Ok(records.into_records());
            }
        }
        tracing::warn!(
            instance_id,
            operation,
            "DCS list still had pages after {MAX_RECORDS} records"
        );
        Ok(records.into_records())
    }
}
