//! What differs between the four kinds: how to create, find, poll and delete their cloud objects.

use std::future::Future;

use jiff::Timestamp;

use crate::cloud::client::CloudClient;
use crate::cloud::error::Error as CloudError;
use crate::cloud::types::OpView;
use crate::controller::context::Context;
use crate::controller::decide::{Observation, OpIds};
use crate::controller::error::Result;
use crate::crd::{BackupResource, OperationStatus};
use std::time::Duration;

/// What [`Operation::precheck`] resolved for the create: what a restore restores. It goes into
/// the create marker's status, so that an adopted restore still says what it restored.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Prepared {
    /// The backup a restore restores.
    pub backup_id: Option<String>,
    /// The point in time a restore restores to.
    pub restore_time: Option<Timestamp>,
}

impl Prepared {
    /// A restore of the backup `id`.
    pub fn backup(id: String) -> Self {
        Self {
            backup_id: Some(id),
            restore_time: None,
        }
    }
}

/// What an interrupted create left to look for.
#[derive(Debug, Clone, Copy)]
pub struct Trace<'a> {
    /// The marker its cloud object carries (when the kind's objects can carry one).
    pub marker: &'a str,
    /// When it was requested (`status.createRequestedAt`, whole seconds).
    pub requested_at: Option<Timestamp>,
}

/// What a search for the object of an interrupted create saw.
#[derive(Debug, Clone, PartialEq)]
pub enum Search {
    /// The cloud's answer: what matched, oldest first (maybe nothing).
    Listed(Vec<Found>),
    /// The object cannot be found: the cloud offers no list to search, refused it, or listed more
    /// than one candidate. Says why.
    Impossible(String),
}

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

    /// Whether a create whose fate is unknown (a crash, a timeout, a 5xx after the create marker
    /// was written) must never be followed by another: a restore overwrites the instance, so a
    /// second one could destroy what the first restored and was since written. When nothing is
    /// found, such a kind ends with reason `RestoreOutcomeUnknown` instead of creating again.
    const NEVER_TWICE: bool = false;

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
        async { Ok(Ok(Prepared::default())) }
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

    /// Looks for what an interrupted create may have made: by default the objects carrying the
    /// marker ([`Operation::find`]). Kinds whose cloud objects cannot carry one search otherwise.
    fn search(
        &self,
        ctx: &Context,
        cloud: &CloudClient,
        trace: &Trace<'_>,
    ) -> impl Future<Output = Result<Search, CloudError>> + Send {
        async move {
            self.find(ctx, cloud, trace.marker)
                .await
                .map(Search::Listed)
        }
    }

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
