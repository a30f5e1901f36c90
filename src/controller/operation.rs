//! What differs between the four kinds: how to create, find, poll and delete their cloud objects.

use std::future::Future;

use crate::cloud::client::CloudClient;
use crate::cloud::error::Error as CloudError;
use crate::cloud::types::OpView;
use crate::controller::context::Context;
use crate::controller::decide::{Observation, OpIds};
use crate::controller::error::Result;
use crate::crd::{BackupResource, OperationStatus};
use std::time::Duration;

/// What [`Operation::precheck`] resolved for the create: the backup id a restore restores.
pub type Prepared = Option<String>;

/// A cloud object found by the marker a create put into it.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub ids: OpIds,
    pub view: Option<OpView>,
    /// Listed, but deleted, expired or being deleted: nothing left to delete.
    pub gone: bool,
}

/// What a create call yielded.
#[derive(Debug, Clone, PartialEq)]
pub enum Created {
    /// The cloud started a new operation.
    New(OpIds),
    /// The cloud already had the object this create would have made, and it is the resource's
    /// own (an earlier create that landed late): it is adopted instead.
    Existing(Found),
}

/// One kind's cloud operations. The shared driver calls these; everything else is common.
pub trait Operation: BackupResource {
    /// `Backup` or `Restore`: event reasons are `<NOUN>Started`, `<NOUN>Succeeded`, ...
    const NOUN: &'static str;

    /// Whether the status holds the ids that polling needs (so no create may happen again).
    fn has_ids(status: &OperationStatus) -> bool;

    /// Whether [`Operation::precheck`] does anything: such kinds report what they wait for (e.g. their
    /// backup) before queueing for the instance; the others queue before reading their Secret.
    const PRECHECKS: bool = false;

    /// Checks before a create that may hold the resource back or fail it (`Err(observation)`), and
    /// resolves what the create needs from elsewhere (a restore's backup id).
    fn precheck(
        &self,
        _ctx: &Context,
        _cloud: &CloudClient,
    ) -> impl Future<Output = Result<Result<Prepared, Observation>>> + Send {
        async { Ok(Ok(None)) }
    }

    /// Starts the cloud operation, putting `marker` into the object (remark, description or name).
    fn create(
        &self,
        ctx: &Context,
        cloud: &CloudClient,
        marker: &str,
        prepared: &Prepared,
    ) -> impl Future<Output = Result<Result<Created, CloudError>>> + Send;

    /// Finds objects carrying `marker` (after a crash between create and status write), oldest first.
    fn find(
        &self,
        ctx: &Context,
        cloud: &CloudClient,
        marker: &str,
    ) -> impl Future<Output = Result<Vec<Found>, CloudError>> + Send;

    /// Observes the running operation; `None` when the cloud does not list it (yet).
    fn poll(
        &self,
        ctx: &Context,
        cloud: &CloudClient,
        status: &OperationStatus,
    ) -> impl Future<Output = Result<Option<OpView>, CloudError>> + Send;

    /// Deletes the cloud object named by `ids` (deletionPolicy Delete); an error of class
    /// `NotFound` (the cloud no longer has it) counts as already gone for the caller.
    fn delete(
        &self,
        _ctx: &Context,
        _cloud: &CloudClient,
        _ids: &OpIds,
    ) -> impl Future<Output = Result<(), CloudError>> + Send {
        async { Ok(()) }
    }
}

/// The timeout a resource runs under: its spec's, or the kind's default (an unparsable spec value
/// fails validation before it matters).
pub fn timeout_of<K: BackupResource>(obj: &K) -> Duration {
    obj.effective_timeout().unwrap_or(K::DEFAULT_TIMEOUT)
}

/// The marker that ties a cloud object to its resource: derived from the UID, which is unique and
/// survives operator restarts (but not a delete-and-recreate, which is a new resource anyway).
pub fn marker(uid: &str) -> String {
    format!("{MARKER_PREFIX}{}", uid.replace('-', ""))
}

/// How every marker starts: a description carrying it belongs to some resource.
pub const MARKER_PREFIX: &str = "k8s:";

#[cfg(test)]
mod tests {
    #[test]
    fn marker_is_compact_and_stable() {
        assert_eq!(
            super::marker("0d9c5f3e-1111-4a2b-9c3d-2e4f5a6b7c8d"),
            "k8s:0d9c5f3e11114a2b9c3d2e4f5a6b7c8d"
        );
    }
}
