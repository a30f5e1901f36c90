//! What every restore kind checks about the backup it restores, before the cloud is asked: the
//! backup resource `backupRef` names (it must exist, belong to the instance, and have succeeded),
//! and how long the cloud may take to list a backup before its absence counts.

use std::time::Duration;

use jiff::Timestamp;
use kube::api::Api;
use kube::{Resource, ResourceExt};

use crate::controller::context::Context;
use crate::controller::decide::{Observation, reason};
use crate::controller::error::{Error, Result};
use crate::crd::{BackupResource, Phase};

/// The backup a restore restores, and since when the cloud should list it.
pub struct Wanted {
    pub id: String,
    /// The restore's creation, or the referenced backup resource's completion if later: a list may
    /// lack the backup for a short while after that, not longer.
    pub since: Option<Timestamp>,
}

/// The backup named by `backupId` (listed since the restore was created).
pub fn by_id<R: Resource>(restore: &R, id: &str) -> Wanted {
    Wanted {
        id: id.to_string(),
        since: restore.meta().creation_timestamp.as_ref().map(|t| t.0),
    }
}

/// The cloud backup of the backup resource `name` (of kind `B`) in the restore's namespace, once it
/// has succeeded: until then the restore waits; one of another instance, or a failed one, is
/// unusable.
pub async fn by_ref<B, R>(
    ctx: &Context,
    restore: &R,
    target: &str,
    name: &str,
) -> Result<Result<Wanted, Observation>>
where
    B: BackupResource,
    R: Resource,
{
    let ns = restore
        .namespace()
        .ok_or(Error::MissingField("namespace"))?;
    let kind = B::kind(&());
    let backups: Api<B> = Api::namespaced(ctx.client.clone(), &ns);
    let Some(backup) = backups.get_opt(name).await.map_err(Error::Kube)? else {
        let message = format!("waiting for {kind} {ns}/{name} to exist");
        return Ok(Err(waiting(message)));
    };
    if backup.instance_id() != target {
        let message = format!(
            "{kind} {name} backs up instance {}, not {target}: a restore only takes backups of its own instance",
            backup.instance_id()
        );
        return Ok(Err(unusable(message)));
    }
    let status = backup.status().cloned().unwrap_or_default();
    match (status.phase, status.backup_id) {
        (Some(Phase::Succeeded), Some(id)) => {
            let created = restore.meta().creation_timestamp.as_ref().map(|t| t.0);
            let completed = status.completed_at.map(|t| t.0);
            Ok(Ok(Wanted {
                id,
                since: created.max(completed),
            }))
        }
        (Some(Phase::Failed), _) => {
            let message = format!("{kind} {name} failed; there is nothing to restore");
            Ok(Err(unusable(message)))
        }
        _ => Ok(Err(waiting(format!(
            "waiting for {kind} {name} to succeed"
        )))),
    }
}

/// A backup the cloud does not list for `instance` (never existed, of another instance, or gone):
/// unusable, once the cloud has had `grace` to list it.
pub fn not_listed(instance: &str, wanted: &Wanted, grace: Duration) -> Observation {
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
        return waiting(message);
    }
    let message = format!(
        "backup {} is not listed by the cloud for instance {instance}: it is of another instance, or gone",
        wanted.id
    );
    unusable(message)
}

/// The restore waits for its backup.
pub fn waiting(message: String) -> Observation {
    Observation::Waiting {
        reason: reason::WAITING_FOR_BACKUP,
        message,
    }
}

/// The restore fails: its backup cannot be restored into this instance.
pub fn unusable(message: String) -> Observation {
    Observation::Invalid {
        reason: reason::BACKUP_UNUSABLE,
        message,
    }
}
