//! Deletion: with `deletionPolicy: Delete` the cloud backup goes before the finalizer does.

use kube::api::Api;
use std::time::Duration;

use kube::ResourceExt;

use crate::controller::context::{Context, FINALIZER};
use crate::controller::decide::{EventNote, OpIds};
use crate::controller::error::{Error, Result};
use crate::controller::kube_io::{load_account, publish, remove_finalizer};
use crate::controller::operation::{Operation, marker};
use crate::controller::schedule::jitter;
use crate::crd::DeletionPolicy;

/// Deletes the cloud object of a resource being deleted, then releases the finalizer.
///
/// A cloud 404 counts as deleted; a resource whose create never happened has nothing to delete; a
/// create that may have happened is looked up by its marker. Any other failure keeps the finalizer
/// (never orphan a backup the user asked to delete) and retries with a Warning event.
pub async fn cleanup<K: Operation>(
    obj: &K,
    ctx: &Context,
    api: &Api<K>,
) -> Result<Option<Duration>> {
    if !obj.finalizers().iter().any(|f| f == FINALIZER) {
        return Ok(None);
    }
    if obj.deletion_policy() != DeletionPolicy::Delete {
        remove_finalizer(api, obj).await?;
        return Ok(None);
    }
    match delete_cloud_objects(obj, ctx).await {
        Ok(deleted) => {
            if !deleted.is_empty() {
                let note = EventNote {
                    warning: false,
                    reason: "CloudBackupDeleted".into(),
                    note: format!("deleted cloud backup {}", deleted.join(", ")),
                };
                publish(ctx, obj, &note, "Delete").await;
            }
            remove_finalizer(api, obj).await?;
            Ok(None)
        }
        Err(message) => {
            ctx.journal.cleanup_failed(obj, &message);
            let note = EventNote {
                warning: true,
                reason: "CleanupFailed".into(),
                note: message,
            };
            publish(ctx, obj, &note, "Delete").await;
            Ok(Some(jitter(ctx.settings.retry_after)))
        }
    }
}

/// Deletes what the resource created; returns the deleted ids, or a message saying why not.
async fn delete_cloud_objects<K: Operation>(obj: &K, ctx: &Context) -> Result<Vec<String>, String> {
    let status = obj.status().cloned().unwrap_or_default();
    let known = OpIds {
        backup_id: status.backup_id.clone(),
        restore_id: status.restore_id.clone(),
        job_id: status.job_id.clone(),
    };
    if known.backup_id.is_none() && status.create_requested_at.is_none() {
        return Ok(Vec::new());
    }
    let ns = obj.namespace().unwrap_or_default();
    let secret = obj
        .credentials_secret()
        .unwrap_or(&ctx.settings.default_credentials_secret)
        .to_string();
    let account = load_account(ctx, &ns, &secret).await.map_err(|e| match e {
        Error::Credentials(m) => format!("cannot delete the cloud backup: {m}"),
        other => format!("cannot delete the cloud backup: {other}"),
    })?;
    let cloud = ctx.clouds.client(&account);
    let targets = if known.backup_id.is_some() {
        vec![known]
    } else {
        // A create may have happened without its id reaching status.
        let uid = obj.uid().unwrap_or_default();
        obj.find(ctx, &cloud, &marker(&uid))
            .await
            .map_err(|e| format!("cannot look up the cloud backup: {e}"))?
            .into_iter()
            .map(|f| f.ids)
            .collect()
    };
    let mut deleted = Vec::new();
    for ids in targets {
        let id = ids.backup_id.clone().unwrap_or_default();
        match obj.delete(ctx, &cloud, &ids).await {
            Ok(()) => deleted.push(id),
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(format!("cannot delete cloud backup {id}: {e}")),
        }
    }
    Ok(deleted)
}
