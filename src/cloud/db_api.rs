//! The v3 job and backup-list calls that DDS and TaurusDB share path for path.

use http::Method;

use super::client::CloudClient;
use super::endpoints::Service;
use super::error::Error;
use super::job::{DbBackup, Job, parse_backup_list, parse_job};
use super::transport::Request;
use super::wire::Unique;

/// Entries per list page (the documented maximum).
const PAGE_SIZE: usize = 100;
/// A guard against a server that never says it is done (that keeps inventing ids).
const MAX_PAGES: usize = 200;

/// One of the two services, with the unit its backup sizes are given in.
pub(crate) struct DbApi<'a> {
    pub client: &'a CloudClient,
    pub service: Service,
    pub unit_bytes: i64,
}

impl DbApi<'_> {
    pub(crate) fn label(&self) -> &'static str {
        self.service.as_str()
    }

    /// `/v3/{project_id}/{rest...}` under the service's base URL.
    pub(crate) async fn url(&self, rest: &[&str]) -> Result<url::Url, Error> {
        let pid = self.client.project_id().await?;
        let mut segments = vec!["v3", pid.as_str()];
        segments.extend_from_slice(rest);
        self.client.url(self.service, &segments)
    }

    pub(crate) async fn get_job(&self, job_id: &str) -> Result<Job, Error> {
        const OP: &str = "get_job";
        let mut url = self.url(&["jobs"]).await?;
        url.query_pairs_mut().append_pair("id", job_id);
        let req = Request::new(self.label(), OP, Method::GET, url);
        let service = self.label();
        self.client
            .send(req, |reply| parse_job(service, OP, job_id, &reply.body))
            .await
    }

    /// Every page of `GET /v3/{pid}/backups` with `filter` (`instance_id` or `backup_id`), until
    /// `stop` says the wanted entry was found. Each backup comes once, even when a new one shifts
    /// the pages (newest first) while they are read.
    pub(crate) async fn list(
        &self,
        operation: &'static str,
        filter: (&str, &str),
        stop: impl Fn(&DbBackup) -> bool,
    ) -> Result<Vec<DbBackup>, Error> {
        let base = self.url(&["backups"]).await?;
        let service = self.label();
        let unit = self.unit_bytes;
        let mut out = Unique::new();
        let mut seen = 0usize;
        for _ in 0..MAX_PAGES {
            let mut url = base.clone();
            url.query_pairs_mut()
                .append_pair(filter.0, filter.1)
                .append_pair("offset", &seen.to_string())
                .append_pair("limit", &PAGE_SIZE.to_string());
            let req = Request::new(service, operation, Method::GET, url);
            let page = self
                .client
                .send(req, |reply| {
                    parse_backup_list(service, operation, unit, &reply.body)
                })
                .await?;
            seen += page.raw_len;
            let last = page.is_last(seen, PAGE_SIZE);
            let found = page.records.iter().any(&stop);
            let repeated = out.add_page(page.records, |b: &DbBackup| b.id.as_str());
            if last || found {
                return Ok(out.into_records());
            }
            if repeated {
                tracing::warn!(
                    service,
                    operation,
                    "backup list repeated a page; paging ignored?"
                );
                return Ok(out.into_records());
            }
        }
        tracing::warn!(
            service,
            operation,
            "backup list still had pages after {MAX_PAGES}"
        );
        Ok(out.into_records())
    }

    /// The instance's backups; entries of other instances (a server ignoring the filter) dropped.
    pub(crate) async fn list_backups(&self, instance_id: &str) -> Result<Vec<DbBackup>, Error> {
        let mut all = self
            .list("list_backups", ("instance_id", instance_id), |_| false)
            .await?;
        all.retain(|b| b.instance_id.as_deref().is_none_or(|i| i == instance_id));
        Ok(all)
    }

    /// The instance's backups on the first list page (up to 100), in one call: enough history for
    /// an estimate of how long its backups take. The documents do not say in which order the
    /// cloud lists them; an instance with more than 100 may show older ones, which still tell
    /// how long its backups take.
    pub(crate) async fn recent_backups(&self, instance_id: &str) -> Result<Vec<DbBackup>, Error> {
        let mut page = self
            .list("list_backups", ("instance_id", instance_id), |_| true)
            .await?;
        page.retain(|b| b.instance_id.as_deref().is_none_or(|i| i == instance_id));
        Ok(page)
    }

    /// The backup with this id, or `None` when the list does not have it.
    pub(crate) async fn get_backup(&self, backup_id: &str) -> Result<Option<DbBackup>, Error> {
        let all = self
            .list("get_backup", ("backup_id", backup_id), |b| {
                b.id == backup_id
            })
            .await?;
        Ok(all.into_iter().find(|b| b.id == backup_id))
    }

    /// `DELETE /v3/{pid}/backups/{id}`; the body (DDS job id, TaurusDB echo) is not needed.
    pub(crate) async fn delete_backup(&self, backup_id: &str) -> Result<(), Error> {
        let url = self.url(&["backups", backup_id]).await?;
        let req = Request::new(self.label(), "delete_backup", Method::DELETE, url);
        self.client.send(req, |_| Ok(())).await
    }
}
