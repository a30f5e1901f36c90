//! The restore calls DDS and TaurusDB share path for path (the restorable windows) and the ones
//! they do not: the restore itself (DDS `{source, target}`, TaurusDB flat) and the DDS job list.

use http::Method;
use jiff::Timestamp;
use serde_json::json;

use super::db_api::DbApi;
use super::endpoints::Service;
use super::error::Error;
use super::restore_wire::{
    ListedJob, RestoreFrom, RestoreWindow, job_time, parse_job_list, parse_restore_job,
    parse_windows,
};
use super::transport::Request;
use super::wire::Unique;

/// Entries per job-list page (the documented maximum).
const PAGE_SIZE: usize = 100;
/// A guard against a list that never ends; a restore's window holds a handful of jobs.
const MAX_PAGES: usize = 20;

impl DbApi<'_> {
    /// `GET /v3/{pid}/instances/{iid}/restore-time?date=yyyy-mm-dd`: the restorable windows of that
    /// UTC day. DDS answers them under `restore_time`, TaurusDB under `restore_times`.
    pub(crate) async fn restore_windows(
        &self,
        instance_id: &str,
        date: jiff::civil::Date,
    ) -> Result<Vec<RestoreWindow>, Error> {
        const OP: &str = "restore_windows";
        let mut url = self
            .url(&["instances", instance_id, "restore-time"])
            .await?;
        url.query_pairs_mut()
            .append_pair("date", &date.strftime("%Y-%m-%d").to_string());
        let key = match self.service {
            Service::Taurus => "restore_times",
            _ => "restore_time",
        };
        let service = self.label();
        let req = Request::new(service, OP, Method::GET, url);
        self.client
            .send(req, |reply| parse_windows(service, OP, key, &reply.body))
            .await
    }

    /// Starts an in-place restore of `target`; the job id. Never repeated by the transport once
    /// sent (a POST): a restore that may have started is never sent again.
    pub(crate) async fn restore(&self, target: &str, from: &RestoreFrom) -> Result<String, Error> {
        const OP: &str = "create_restore";
        let (path, body) = match self.service {
            Service::Taurus => (["instances", "restore"], taurus_body(target, from)),
            _ => (["instances", "recovery"], dds_body(target, from)),
        };
        let url = self.url(&path).await?;
        let service = self.label();
        let req = Request::new(service, OP, Method::POST, url).json(&body);
        self.client
            .send(req, |reply| parse_restore_job(service, OP, &reply.body))
            .await
    }

    /// `GET /v3.1/{pid}/jobs` (DDS, documented by Huawei Cloud only): the jobs named `name` created
    /// between `since` and `until`, every page.
    pub(crate) async fn list_jobs(
        &self,
        name: &str,
        since: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<ListedJob>, Error> {
        const OP: &str = "list_jobs";
        let pid = self.client.project_id().await?;
        let base = self
            .client
            .url(self.service, &["v3.1", pid.as_str(), "jobs"])?;
        let service = self.label();
        let mut out = Unique::new();
        let mut seen = 0usize;
        for _ in 0..MAX_PAGES {
            let mut url = base.clone();
            url.query_pairs_mut()
                .append_pair("name", name)
                .append_pair("start_time", &job_time(since))
                .append_pair("end_time", &job_time(until))
                .append_pair("offset", &seen.to_string())
                .append_pair("limit", &PAGE_SIZE.to_string());
            let req = Request::new(service, OP, Method::GET, url);
            let page = self
                .client
                .send(req, |reply| parse_job_list(service, OP, &reply.body))
                .await?;
            seen += page.raw_len;
            let last = page.is_last(seen, PAGE_SIZE);
            let repeated = out.add_page(page.records, |j: &ListedJob| j.id.as_str());
            if last || repeated {
                return Ok(out.into_records());
            }
        }
        tracing::warn!(service, "job list still had pages after {MAX_PAGES}");
        Ok(out.into_records())
    }
}

/// `{source: {instance_id, type, backup_id | restore_time}, target: {instance_id}}`; DDS takes the
/// time as a string of milliseconds (its SDK's type; the OTC example's number is unconfirmed).
fn dds_body(target: &str, from: &RestoreFrom) -> serde_json::Value {
    let source = match from {
        RestoreFrom::Backup(id) => {
            json!({"instance_id": target, "type": from.kind(), "backup_id": id})
        }
        RestoreFrom::Time {
            source_instance,
            at,
        } => json!({"instance_id": source_instance, "type": from.kind(),
            "restore_time": at.as_millisecond().to_string()}),
    };
    json!({"source": source, "target": {"instance_id": target}})
}

/// The flat TaurusDB body; `type` always sent, the time an integer of milliseconds.
fn taurus_body(target: &str, from: &RestoreFrom) -> serde_json::Value {
    match from {
        RestoreFrom::Backup(id) => json!({"source_instance_id": target,
            "target_instance_id": target, "type": from.kind(), "backup_id": id}),
        RestoreFrom::Time {
            source_instance,
            at,
        } => json!({"source_instance_id": source_instance, "target_instance_id": target,
            "type": from.kind(), "restore_time": at.as_millisecond()}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_follow_each_services_document() {
        let at: Timestamp = "2026-01-02T03:04:05.250Z".parse().unwrap();
        let pitr = RestoreFrom::Time {
            source_instance: "src-in02".into(),
            at,
        };
        assert_eq!(
            dds_body("t-in02", &pitr),
            json!({"source": {"instance_id": "src-in02", "type": "timestamp",
                "restore_time": "1767323045250"}, "target": {"instance_id": "t-in02"}})
        );
        assert_eq!(
            dds_body("t-in02", &RestoreFrom::Backup("b-br02".into())),
            json!({"source": {"instance_id": "t-in02", "type": "backup", "backup_id": "b-br02"},
                "target": {"instance_id": "t-in02"}})
        );
        assert_eq!(
            taurus_body("t-in07", &pitr),
            json!({"source_instance_id": "src-in02", "target_instance_id": "t-in07",
                "type": "timestamp", "restore_time": 1_767_323_045_250_i64})
        );
        assert_eq!(
            taurus_body("t-in07", &RestoreFrom::Backup("b-br07".into())),
            json!({"source_instance_id": "t-in07", "target_instance_id": "t-in07",
                "type": "backup", "backup_id": "b-br07"})
        );
    }
}
