//! What the controllers' caches keep of each object: the watch stream is trimmed before it reaches
//! the reflector store, so memory grows with what the operator reads, not with what others wrote.
//!
//! An object as the API server serves it carries `metadata.managedFields` (one entry per field
//! manager, each a tree of every field it set) and, after `kubectl apply`, the
//! `kubectl.kubernetes.io/last-applied-configuration` annotation (the whole object again as a
//! string). Together they were three quarters of a cached object. Nothing here reads them:
//!
//! - the reconcilers read name, namespace, uid, resourceVersion (preconditions of the marker and
//!   finalizer writes), generation (`observedGeneration`), finalizers, deletionTimestamp,
//!   creationTimestamp (a `DcsRestore`'s grace), spec and status;
//! - events refer to the object by kind, name, namespace, uid and resourceVersion;
//! - housekeeping reads uid, name, namespace and status;
//! - sharding selects on the API server (`labelSelector`), and a schedule lists its children
//!   through the API (their schedule label and run-time annotation), so nothing reads labels or
//!   annotations from these caches.
//!
//! So managedFields, labels and annotations are dropped: a label or annotation costs little, but
//! the map that holds even one costs about 600 bytes per object, 6 MiB per 10,000 resources. A
//! feature that needs one from the cache keeps that key here, and says so in the tests.
//!
//! A final status (`Succeeded`, `Failed`) is cached without what only people read: `message`,
//! `conditions`, `cloudStatus` and `size` (3 MiB less RSS at 10,000 resources). A final phase
//! never changes again, so a reconcile of a final resource writes no status: it plans nothing
//! ([`decide::plan`](super::decide::plan)), or cleans up on deletion from the ids and the create
//! marker, which stay. Housekeeping reads the phase and `completedAt`; a restore reads
//! the backup it names from the API server, schedules read their children there too. Statuses
//! still in progress are cached whole: the reconcile builds the next status from them.
//!
//! Status writes are server-side applies of the status alone, and the finalizer patch names only
//! finalizers, so nothing dropped here is ever written back. `tests/scale/trimmed_finals.rs` runs
//! the real controllers over final resources in every state a reconcile treats differently,
//! cached trimmed and cached whole, and finds the same API writes, events and cloud calls.

use kube::Resource;
use kube::api::Api;
use kube::core::DeserializeGuard;
use kube::core::object::HasStatus;
use kube::runtime::controller::Controller;
use kube::runtime::{WatchStreamExt, reflector, watcher};
use serde::de::DeserializeOwned;

use crate::crd::OperationStatus;

/// Drops from `obj` what no controller reads (see the module documentation).
pub fn strip<K: Resource>(obj: &mut K) {
    let meta = obj.meta_mut();
    meta.managed_fields = None;
    meta.annotations = None;
    meta.labels = None;
}

/// Drops from a final status what only people read (see the module documentation); a status in
/// progress, and an object that does not deserialise, stay as they are.
pub fn trim_final_status<K>(obj: &mut DeserializeGuard<K>)
where
    K: HasStatus<Status = OperationStatus>,
{
    let Ok(k) = &mut obj.0 else { return };
    let Some(s) = k.status_mut() else { return };
    if !s.is_terminal() {
        return;
    }
    s.message = None;
    s.conditions = Vec::new();
    s.cloud_status = None;
    s.size = None;
}

/// A Controller for the objects `api` and `config` select, as `Controller::new` builds it, but
/// caching (and reconciling) them stripped and with final statuses trimmed. `trim: false` keeps
/// whole objects (to measure and test the difference only).
pub fn controller<K>(
    api: Api<DeserializeGuard<K>>,
    config: watcher::Config,
    trim: bool,
) -> Controller<DeserializeGuard<K>>
where
    K: Resource<DynamicType = ()> + DeserializeOwned + Clone + std::fmt::Debug + Send + Sync,
    K: HasStatus<Status = OperationStatus> + 'static,
{
    if !trim {
        return Controller::new(api, config);
    }
    let (reader, writer) = reflector::store();
    let objects = reflector(
        writer,
        watcher(api, config).modify(|obj: &mut DeserializeGuard<K>| {
            strip(obj);
            trim_final_status(obj);
        }),
    )
    .applied_objects();
    Controller::for_stream(objects, reader)
}

/// Whether `obj` still carries anything [`strip`] drops.
pub fn is_stripped<K: Resource>(obj: &K) -> bool {
    let meta = obj.meta();
    meta.managed_fields.is_none() && meta.annotations.is_none() && meta.labels.is_none()
}

#[cfg(test)]
#[path = "strip_tests.rs"]
mod tests;
