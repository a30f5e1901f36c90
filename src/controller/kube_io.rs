//! Kubernetes I/O of the controllers: status by server-side apply, finalizers, credentials, events.

use std::fmt::Debug;

use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::events::{Event, EventType};
use kube::{Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::cloud::account::Account;
use crate::controller::bounded::{MAX_NOTE, clip};
use crate::controller::context::{Context, FIELD_MANAGER, FINALIZER};
use crate::controller::decide::EventNote;
use crate::controller::error::{Error, Result};
use crate::crd::OperationStatus;

/// Writes the whole status under the operator's single field manager.
///
/// The complete status is sent every time: with server-side apply, a field this manager owned and
/// now omits is removed, which is how the create marker is cleared.
pub async fn apply_status<K, S>(api: &Api<K>, obj: &K, status: &S) -> Result<()>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug,
    S: Serialize,
{
    let body = json!({
        "apiVersion": K::api_version(&()),
        "kind": K::kind(&()),
        "status": status,
    });
    api.patch_status(
        &obj.name_any(),
        &PatchParams::apply(FIELD_MANAGER).force(),
        &Patch::Apply(&body),
    )
    .await
    .map_err(Error::Kube)?;
    Ok(())
}

/// Writes the create marker, on condition that the object is still at the resourceVersion the
/// decision was made from: a stale writer (a replica that lost the lease, or one acting on a lagging
/// cache) gets 409 Conflict instead of a marker, so it never goes on to create. Remembered on success.
pub async fn apply_marker<K>(
    ctx: &Context,
    api: &Api<K>,
    obj: &K,
    status: &OperationStatus,
) -> Result<()>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug,
{
    apply_status_if_unchanged(api, obj, status).await?;
    if let Some(uid) = obj.uid() {
        ctx.recent.remember(&uid, status);
    }
    Ok(())
}

/// Writes the whole status on condition that the object is still at `obj`'s resourceVersion (409
/// Conflict otherwise), for writes that must not land on a newer state than the one decided from.
pub async fn apply_status_if_unchanged<K>(
    api: &Api<K>,
    obj: &K,
    status: &OperationStatus,
) -> Result<()>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug,
{
    let body = json!({
        "apiVersion": K::api_version(&()),
        "kind": K::kind(&()),
        "metadata": { "resourceVersion": obj.resource_version() },
        "status": status,
    });
    api.patch_status(
        &obj.name_any(),
        &PatchParams::apply(FIELD_MANAGER).force(),
        &Patch::Apply(&body),
    )
    .await
    .map_err(Error::Kube)?;
    Ok(())
}

/// Adds the cleanup finalizer. The merge patch carries the object's resourceVersion, so a
/// concurrent change makes it fail with a conflict and retry instead of dropping another finalizer.
/// Returns the object as stored now (its new resourceVersion is the one later writes build on).
pub async fn add_finalizer<K>(api: &Api<K>, obj: &K) -> Result<K>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug,
{
    let mut finalizers = obj.finalizers().to_vec();
    if finalizers.iter().any(|f| f == FINALIZER) {
        return Ok(obj.clone());
    }
    finalizers.push(FINALIZER.to_string());
    patch_finalizers(api, obj, finalizers).await
}

/// Removes the cleanup finalizer after the cloud object is gone.
pub async fn remove_finalizer<K>(api: &Api<K>, obj: &K) -> Result<()>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug,
{
    let before = obj.finalizers();
    let finalizers: Vec<String> = before.iter().filter(|f| *f != FINALIZER).cloned().collect();
    if finalizers.len() == before.len() {
        return Ok(());
    }
    patch_finalizers(api, obj, finalizers).await?;
    Ok(())
}

async fn patch_finalizers<K>(api: &Api<K>, obj: &K, finalizers: Vec<String>) -> Result<K>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug,
{
    let body = json!({
        "metadata": { "resourceVersion": obj.resource_version(), "finalizers": finalizers }
    });
    api.patch(
        &obj.name_any(),
        &PatchParams::default(),
        &Patch::Merge(&body),
    )
    .await
    .map_err(Error::Kube)
}

/// Reads the cloud account from a Secret in the resource's own namespace (never another one).
pub async fn load_account(ctx: &Context, namespace: &str, secret_name: &str) -> Result<Account> {
    let secrets: Api<Secret> = Api::namespaced(ctx.client.clone(), namespace);
    let secret = secrets.get_opt(secret_name).await.map_err(Error::Kube)?;
    let parsed = secret.map(|s| {
        let data = s
            .data
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k, v.0))
            .collect();
        Account::from_secret_data(&data)
            .map_err(|e| Error::Credentials(format!("Secret {namespace}/{secret_name}: {e}")))
    });
    match (&ctx.simulated, parsed) {
        (None, Some(account)) => account,
        (None, None) => Err(Error::Credentials(format!(
            "Secret {namespace}/{secret_name} not found"
        ))),
        (Some(sim), Some(Ok(user))) => Ok(Account {
            dcs_api_version: user.dcs_api_version,
            ..sim.clone()
        }),
        (Some(sim), _) => Ok(sim.clone()),
    }
}

/// Publishes an event about `obj` through the shared recorder; failures are logged, not fatal.
pub async fn publish<K>(ctx: &Context, obj: &K, note: &EventNote, action: &str)
where
    K: Resource<DynamicType = ()> + Serialize,
{
    let event = Event {
        type_: if note.warning {
            EventType::Warning
        } else {
            EventType::Normal
        },
        reason: note.reason.clone(),
        // Kubernetes refuses longer notes, and the event would be lost.
        note: Some(clip(&note.note, MAX_NOTE)),
        action: action.to_string(),
        secondary: None,
    };
    if let Err(e) = ctx.recorder.publish(&event, &obj.object_ref(&())).await {
        tracing::warn!(error = %e, reason = %note.reason, "failed to publish event");
    }
}
