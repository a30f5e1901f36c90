//! Deletion: with `deletionPolicy: Delete` the cloud backups go before the finalizer does.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use kube::ResourceExt;
use kube::api::Api;

use crate::cloud::client::CloudClient;
use crate::controller::context::{Context, FINALIZER};
use crate::controller::decide::{EventNote, OpIds, TIME_PRECISION};
use crate::controller::error::{Error, Result};
use crate::controller::kube_io::{load_account, publish, remove_finalizer};
use crate::controller::operation::{Found, Operation, marker};
use crate::controller::schedule::jitter;
use crate::crd::{DeletionPolicy, OperationStatus};

/// What the cleanup found in the cloud.
#[derive(Debug, Default)]
struct Cleaned {
    /// Backups this cleanup deleted.
    deleted: Vec<String>,
    /// Backups the cloud no longer had: deleted in the console, rotated out, expired.
    gone: Vec<String>,
}

/// Where a cleanup stands.
#[derive(Debug)]
enum Step {
    /// Nothing of the resource is left in the cloud.
    Done(Cleaned),
    /// An interrupted create may still make its backup: look again after this long.
    Wait(Duration),
}

/// Deletes the cloud backups of a resource being deleted, then releases the finalizer.
///
/// Acts on the freshest status this process knows (the cache may lag behind its own writes).
/// Every backup carrying the resource's marker is deleted, duplicates an earlier crash made
/// included; one the cloud no longer has counts as deleted. A resource with only a create marker
/// waits out the adoption window before concluding that nothing was made. Any other failure keeps
/// the finalizer (never orphan a backup the user asked to delete) and retries with a Warning.
pub async fn cleanup<K: Operation>(
    obj: &K,
    ctx: &Context,
    api: &Api<K>,
) -> Result<Option<Duration>> {
    let uid = obj.uid().ok_or(Error::MissingField("uid"))?;
    if !obj.finalizers().iter().any(|f| f == FINALIZER) {
        ctx.recent.forget(&uid);
        return Ok(None);
    }
    if obj.deletion_policy() != DeletionPolicy::Delete {
        remove_finalizer(api, obj).await?;
        ctx.recent.forget(&uid);
        return Ok(None);
    }
    let status = ctx
        .recent
        .freshest(&uid, obj.status().cloned().unwrap_or_default());
    match delete_cloud_objects(obj, ctx, &uid, &status).await {
        Ok(Step::Wait(left)) => {
            tracing::debug!(?left, "waiting out the adoption window before the cleanup");
            Ok(Some(jitter(left)))
        }
        Ok(Step::Done(cleaned)) => {
            announce(obj, ctx, &cleaned).await;
            remove_finalizer(api, obj).await?;
            ctx.recent.forget(&uid);
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

/// Deletes what the resource created; says what it did, or why it could not.
async fn delete_cloud_objects<K: Operation>(
    obj: &K,
    ctx: &Context,
    uid: &str,
    status: &OperationStatus,
) -> Result<Step, String> {
    if status.backup_id.is_none() && status.create_requested_at.is_none() {
        // The marker is written before every create: without it and without ids, none happened.
        return Ok(Step::Done(Cleaned::default()));
    }
    let cloud = cloud_of(obj, ctx).await?;
    let found = obj
        .find(ctx, &cloud, &marker(uid))
        .await
        .map_err(|e| format!("cannot look up the cloud backups by marker: {e}"))?;
    if status.backup_id.is_none()
        && found.is_empty()
        && let Some(left) = adoption_window_left(status, ctx)
    {
        return Ok(Step::Wait(left));
    }
    let mut cleaned = Cleaned::default();
    for target in targets(status, found) {
        delete_one(obj, ctx, &cloud, target, &mut cleaned).await?;
    }
    Ok(Step::Done(cleaned))
}

/// The resource's cloud client, or why there is none.
async fn cloud_of<K: Operation>(obj: &K, ctx: &Context) -> Result<Arc<CloudClient>, String> {
    let ns = obj.namespace().unwrap_or_default();
    let secret = obj
        .credentials_secret()
        .unwrap_or(&ctx.settings.default_credentials_secret)
        .to_string();
    let account = load_account(ctx, &ns, &secret).await.map_err(|e| match e {
        Error::Credentials(m) => format!("cannot delete the cloud backup: {m}"),
        other => format!("cannot delete the cloud backup: {other}"),
    })?;
    Ok(ctx.clouds.client(&account))
}

/// How long an interrupted create may still make its backup: the adoption window, measured from
/// the create marker (stored in whole seconds, so it may look up to a second older than it is).
fn adoption_window_left(status: &OperationStatus, ctx: &Context) -> Option<Duration> {
    let at = status.create_requested_at.as_ref()?.0;
    let age = Duration::try_from(Timestamp::now().duration_since(at)).unwrap_or_default();
    (ctx.settings.adopt_window + TIME_PRECISION)
        .checked_sub(age)
        .filter(|left| !left.is_zero())
}

/// The backup in status first, then every other one carrying the marker; each once.
fn targets(status: &OperationStatus, found: Vec<Found>) -> Vec<Found> {
    let mut out: Vec<Found> = Vec::new();
    if let Some(id) = &status.backup_id {
        let listed = found
            .iter()
            .find(|f| f.ids.backup_id.as_ref() == Some(id))
            .cloned();
        out.push(listed.unwrap_or_else(|| Found {
            ids: OpIds {
                backup_id: Some(id.clone()),
                job_id: status.job_id.clone(),
                restore_id: None,
            },
            view: None,
            gone: false,
        }));
    }
    for f in found {
        if f.ids.backup_id.is_some() && !out.iter().any(|o| o.ids.backup_id == f.ids.backup_id) {
            out.push(f);
        }
    }
    out
}

/// Deletes one backup unless the cloud lists it as gone; a cloud that no longer has it (DCS
/// `DCS.4031`, DDS/TaurusDB "backup does not exist", 404) means gone too.
async fn delete_one<K: Operation>(
    obj: &K,
    ctx: &Context,
    cloud: &CloudClient,
    target: Found,
    cleaned: &mut Cleaned,
) -> Result<(), String> {
    let id = target.ids.backup_id.clone().unwrap_or_default();
    if target.gone {
        cleaned.gone.push(id);
        return Ok(());
    }
    match obj.delete(ctx, cloud, &target.ids).await {
        Ok(()) => cleaned.deleted.push(id),
        Err(e) if e.is_not_found() => cleaned.gone.push(id),
        Err(e) => {
            let done = match cleaned.deleted.as_slice() {
                [] => String::new(),
                ids => format!("deleted cloud backup {}; ", ids.join(", ")),
            };
            return Err(format!("{done}cannot delete cloud backup {id}: {e}"));
        }
    }
    Ok(())
}

/// One Normal event for what was deleted and one for what was already gone.
async fn announce<K: Operation>(obj: &K, ctx: &Context, cleaned: &Cleaned) {
    if !cleaned.deleted.is_empty() {
        let note = EventNote {
            warning: false,
            reason: "CloudBackupDeleted".into(),
            note: format!("deleted cloud backup {}", cleaned.deleted.join(", ")),
        };
        publish(ctx, obj, &note, "Delete").await;
    }
    if !cleaned.gone.is_empty() {
        let note = EventNote {
            warning: false,
            reason: "CloudBackupGone".into(),
            note: format!(
                "cloud backup {} was already gone (deleted outside the operator, expired, or rotated out by the cloud)",
                cleaned.gone.join(", ")
            ),
        };
        publish(ctx, obj, &note, "Delete").await;
    }
}
