//! What the scenarios need to know about each kind: names, ids, a spec that can run, the cloud
//! objects the operator made, and a way to keep an instance busy behind the operator's back.

use std::future::Future;
use std::sync::Arc;

use hwcloud_backup_operator::cloud::client::{CloudClient, CloudClients};
use hwcloud_backup_operator::controller::operation::Operation;
use hwcloud_backup_operator::crd::{
    DcsBackup, DcsRestore, DdsBackup, DdsRestore, OperationStatus, TaurusDbBackup, TaurusDbRestore,
};
use serde_json::{Value, json};

use crate::common::wait_until;
use crate::harness::{Harness, fast_transport};

/// A cloud object the operator made (it carries a resource marker): id and cloud status.
#[derive(Debug, Clone, PartialEq)]
pub struct Made {
    pub id: String,
    pub status: String,
}

pub trait Kind: Operation {
    const KIND: &'static str;
    const PLURAL: &'static str;
    /// An instance the simulator treats normally.
    const INSTANCE: &'static str;
    /// The simulator's name of the create call.
    const CREATE: &'static str;
    /// Status fields holding the ids once the cloud accepted the operation; the first names the
    /// object in [`Kind::made`].
    const ID_FIELDS: &'static [&'static str];
    /// What the cloud answers a create on an instance that runs another operation.
    const BUSY_CODE: &'static str;
    /// Cloud statuses of a finished, successful object.
    const DONE: &'static str;

    /// A spec for `instance` that needs nothing from the cloud (a restore names a made-up backup).
    fn plain_spec(instance: &str) -> Value {
        json!({ "instanceId": instance })
    }

    /// A spec that can run on `instance`: a restore gets a finished cloud backup of it. Clears the
    /// simulator's call log, so scenarios count only the operator's calls.
    fn spec(h: &Harness, instance: &str) -> impl Future<Output = Value> {
        let spec = Self::plain_spec(instance);
        async move {
            h.sim.reset_calls();
            spec
        }
    }

    /// The cloud objects the operator made on `instance`, oldest first.
    fn made(h: &Harness, instance: &str) -> Vec<Made>;

    /// Starts an operation on `instance` directly in the cloud, so the instance is busy.
    fn occupy(h: &Harness, instance: &str) -> impl Future<Output = ()>;

    /// Deletes the cloud backup `id` of `instance` behind the operator's back (the console, the
    /// cloud's own rotation). Only for the backup kinds.
    fn delete_in_console(h: &Harness, instance: &str, id: &str) -> impl Future<Output = ()> {
        let (client, instance, id) = (direct(h), instance.to_string(), id.to_string());
        async move {
            let deleted = match Self::KIND {
                "DcsBackup" => client.dcs().delete_backup(&instance, &id).await,
                "DdsBackup" => client.dds().delete_backup(&id).await,
                "TaurusDbBackup" => client.taurus().delete_backup(&id).await,
                other => panic!("{other} has no cloud backup to delete"),
            };
            deleted.expect("deleted in the console");
        }
    }

    /// A backup of `instance` carrying `marker`, made behind the operator's back the way a create
    /// whose answer was lost (or that landed late) makes it; returns its id. Only for the backup kinds.
    fn land_create(h: &Harness, instance: &str, marker: &str) -> impl Future<Output = String> {
        let (client, instance) = (direct(h), instance.to_string());
        let name = format!("landed-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
        let remark = format!("[{marker}]");
        let marker = marker.to_string();
        async move {
            let id = match Self::KIND {
                "DcsBackup" => client.dcs().create_backup(&instance, &remark, None).await,
                "DdsBackup" => (client.dds().create_backup(&instance, &name, &marker).await)
                    .map(|c| c.backup_id),
                "TaurusDbBackup" => (client.taurus().create_backup(&instance, &name, &marker))
                    .await
                    .map(|c| c.backup_id),
                other => panic!("{other} makes no cloud backup"),
            };
            id.expect("the landed create")
        }
    }

    /// The id in status that names the object of [`Kind::made`].
    fn op_id(st: &OperationStatus) -> Option<String> {
        st.backup_id.clone()
    }
}

/// A cloud client of the simulator's account that bypasses the operator.
pub fn direct(h: &Harness) -> Arc<CloudClient> {
    CloudClients::new(fast_transport(), None).client(&h.sim.account())
}

/// A finished DCS backup of `instance`, made directly in the cloud; returns its id.
pub async fn finished_dcs_backup(h: &Harness, instance: &str) -> String {
    let id = direct(h)
        .dcs()
        .create_backup(instance, "seed", None)
        .await
        .expect("direct backup starts");
    wait_until("the seed backup finished", || {
        h.sim
            .backups()
            .iter()
            .any(|b| b.backup_id == id && b.status != "backuping" && b.status != "waiting")
    })
    .await;
    id
}

/// Backups of `service` on `instance` that carry a resource marker.
fn made_backups(h: &Harness, service: &str, instance: &str) -> Vec<Made> {
    let mut all = h.sim.backups();
    all.sort_by_key(|b| b.created_at);
    all.into_iter()
        .filter(|b| {
            b.service == service
                && b.instance_id == instance
                && b.description_or_remark.contains("k8s:")
        })
        .map(|b| Made {
            id: b.backup_id,
            status: b.status,
        })
        .collect()
}

impl Kind for DcsBackup {
    const KIND: &'static str = "DcsBackup";
    const PLURAL: &'static str = "dcsbackups";
    const INSTANCE: &'static str = "redis-1";
    const CREATE: &'static str = "create_backup";
    const ID_FIELDS: &'static [&'static str] = &["backupId"];
    const BUSY_CODE: &'static str = "DCS.4096";
    const DONE: &'static str = "succeed";

    fn made(h: &Harness, instance: &str) -> Vec<Made> {
        made_backups(h, "dcs", instance)
    }

    async fn occupy(h: &Harness, instance: &str) {
        direct(h)
            .dcs()
            .create_backup(instance, "by hand", None)
            .await
            .expect("direct backup starts");
    }
}

impl Kind for DcsRestore {
    const KIND: &'static str = "DcsRestore";
    const PLURAL: &'static str = "dcsrestores";
    const INSTANCE: &'static str = "redis-1";
    const CREATE: &'static str = "create_restore";
    const ID_FIELDS: &'static [&'static str] = &["restoreId", "backupId"];
    const BUSY_CODE: &'static str = "DCS.4096";
    const DONE: &'static str = "succeed";

    fn plain_spec(instance: &str) -> Value {
        json!({ "instanceId": instance, "backupId": "0b5e2f6a-0000-4000-8000-000000000000" })
    }

    async fn spec(h: &Harness, instance: &str) -> Value {
        let backup = finished_dcs_backup(h, instance).await;
        h.sim.reset_calls();
        json!({ "instanceId": instance, "backupId": backup })
    }

    fn made(h: &Harness, instance: &str) -> Vec<Made> {
        let mut all = h.sim.restores();
        all.sort_by_key(|r| r.created_at);
        all.into_iter()
            .filter(|r| r.instance_id == instance && r.remark.contains("k8s:"))
            .map(|r| Made {
                id: r.restore_id,
                status: r.status,
            })
            .collect()
    }

    /// A backup running on the instance makes the cloud refuse a restore (DCS.4096).
    async fn occupy(h: &Harness, instance: &str) {
        DcsBackup::occupy(h, instance).await;
    }

    fn op_id(st: &OperationStatus) -> Option<String> {
        st.restore_id.clone()
    }
}

impl Kind for DdsBackup {
    const KIND: &'static str = "DdsBackup";
    const PLURAL: &'static str = "ddsbackups";
    const INSTANCE: &'static str = "mongo-1";
    const CREATE: &'static str = "create_backup";
    const ID_FIELDS: &'static [&'static str] = &["backupId", "jobId"];
    const BUSY_CODE: &'static str = "DBS.200019";
    const DONE: &'static str = "COMPLETED";

    fn made(h: &Harness, instance: &str) -> Vec<Made> {
        made_backups(h, "dds", instance)
    }

    async fn occupy(h: &Harness, instance: &str) {
        direct(h)
            .dds()
            .create_backup(instance, "by-hand", "made by hand")
            .await
            .expect("direct backup starts");
    }
}

impl Kind for TaurusDbBackup {
    const KIND: &'static str = "TaurusDbBackup";
    const PLURAL: &'static str = "taurusdbbackups";
    const INSTANCE: &'static str = "taurus-1";
    const CREATE: &'static str = "create_backup";
    const ID_FIELDS: &'static [&'static str] = &["backupId", "jobId"];
    const BUSY_CODE: &'static str = "DBS.201205";
    const DONE: &'static str = "COMPLETED";

    fn made(h: &Harness, instance: &str) -> Vec<Made> {
        made_backups(h, "taurus", instance)
    }

    async fn occupy(h: &Harness, instance: &str) {
        direct(h)
            .taurus()
            .create_backup(instance, "by-hand", "made by hand")
            .await
            .expect("direct backup starts");
    }
}

/// A finished DDS (`"dds"`) or TaurusDB (`"taurus"`) backup of `instance`, made directly in the
/// cloud; returns its id.
pub async fn finished_db_backup(h: &Harness, service: &str, instance: &str) -> String {
    let client = direct(h);
    let name = format!("seed-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let created = match service {
        "dds" => client.dds().create_backup(instance, &name, "seed").await,
        _ => client.taurus().create_backup(instance, &name, "seed").await,
    }
    .expect("direct backup starts");
    let id = created.backup_id;
    wait_until("the seed backup finished", || {
        h.sim
            .backups()
            .iter()
            .any(|b| b.backup_id == id && b.status != "BUILDING")
    })
    .await;
    id
}

/// The restores of `service` on `instance` (the tests start none by hand), oldest first.
pub fn made_restores(h: &Harness, service: &str, instance: &str) -> Vec<Made> {
    let mut all = h.sim.restores();
    all.sort_by_key(|r| r.created_at);
    all.into_iter()
        .filter(|r| r.service == service && r.instance_id == instance)
        .map(|r| Made {
            id: r.restore_id,
            status: r.status,
        })
        .collect()
}

impl Kind for DdsRestore {
    const KIND: &'static str = "DdsRestore";
    const PLURAL: &'static str = "ddsrestores";
    const INSTANCE: &'static str = "mongo-1";
    const CREATE: &'static str = "create_restore";
    const ID_FIELDS: &'static [&'static str] = &["jobId", "backupId"];
    const BUSY_CODE: &'static str = "DBS.200019";
    const DONE: &'static str = "Completed";

    fn plain_spec(instance: &str) -> Value {
        json!({ "instanceId": instance, "backupId": "0b5e2f6a000040008000000000000000br02" })
    }

    async fn spec(h: &Harness, instance: &str) -> Value {
        let backup = finished_db_backup(h, "dds", instance).await;
        h.sim.reset_calls();
        json!({ "instanceId": instance, "backupId": backup })
    }

    fn made(h: &Harness, instance: &str) -> Vec<Made> {
        made_restores(h, "dds", instance)
    }

    /// A backup running on the instance makes the cloud refuse a restore (DBS.200019).
    async fn occupy(h: &Harness, instance: &str) {
        DdsBackup::occupy(h, instance).await;
    }

    fn op_id(st: &OperationStatus) -> Option<String> {
        st.job_id.clone()
    }
}

impl Kind for TaurusDbRestore {
    const KIND: &'static str = "TaurusDbRestore";
    const PLURAL: &'static str = "taurusdbrestores";
    const INSTANCE: &'static str = "taurus-1";
    const CREATE: &'static str = "create_restore";
    const ID_FIELDS: &'static [&'static str] = &["jobId", "backupId"];
    const BUSY_CODE: &'static str = "DBS.201205";
    const DONE: &'static str = "Completed";

    fn plain_spec(instance: &str) -> Value {
        json!({ "instanceId": instance, "backupId": "0b5e2f6a000040008000000000000000br07" })
    }

    async fn spec(h: &Harness, instance: &str) -> Value {
        let backup = finished_db_backup(h, "taurus", instance).await;
        h.sim.reset_calls();
        json!({ "instanceId": instance, "backupId": backup })
    }

    fn made(h: &Harness, instance: &str) -> Vec<Made> {
        made_restores(h, "taurus", instance)
    }

    /// A backup running on the instance makes the cloud refuse a restore (409 DBS.201205).
    async fn occupy(h: &Harness, instance: &str) {
        TaurusDbBackup::occupy(h, instance).await;
    }

    fn op_id(st: &OperationStatus) -> Option<String> {
        st.job_id.clone()
    }
}
