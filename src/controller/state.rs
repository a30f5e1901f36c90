//! The vocabulary of the state machine: plans, observations, decisions, reasons, and the
//! `Ready` condition. `decide.rs` holds the transitions.

use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};

use crate::cloud::error::{Error as CloudError, ErrorClass};
use crate::cloud::types::OpView;
use crate::crd::OperationStatus;

/// The condition every kind maintains.
pub const READY: &str = "Ready";

/// Condition reasons (also event reasons and metric labels).
pub mod reason {
    pub const CREATING: &str = "Creating";
    pub const IN_PROGRESS: &str = "InProgress";
    pub const SUCCEEDED: &str = "Succeeded";
    pub const CLOUD_ERROR: &str = "CloudError";
    pub const THROTTLED: &str = "Throttled";
    pub const INSTANCE_BUSY: &str = "InstanceBusy";
    pub const TIMEOUT: &str = "Timeout";
    pub const INVALID_SPEC: &str = "InvalidSpec";
    pub const CREDENTIALS_ERROR: &str = "CredentialsError";
    pub const WAITING_FOR_BACKUP: &str = "WaitingForBackup";
    pub const ADOPTED: &str = "Adopted";
    /// A restore's backup belongs to another instance, failed, or is gone.
    pub const BACKUP_UNUSABLE: &str = "BackupUnusable";
    /// A restore's point in time lies outside every restorable window the cloud reports.
    pub const INVALID_RESTORE_TIME: &str = "InvalidRestoreTime";
    /// A restore request whose fate is unknown, and whose job cannot be found: never sent again.
    pub const OUTCOME_UNKNOWN: &str = "RestoreOutcomeUnknown";
}

/// Answers in a row that must not list a running operation before it counts as gone (besides the
/// time they must span, `Frame::not_listed_for`): one empty list or one 204 never fails a resource.
pub const NOT_LISTED_ANSWERS: i32 = 3;

/// Resolution of `metav1.Time` in stored status (RFC 3339 without fractions).
pub const TIME_PRECISION: Duration = Duration::from_secs(1);

/// What the driver should do with the cloud this time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Terminal: no cloud call at all.
    Done,
    /// Ids are known: poll the operation.
    Poll,
    /// A create may have happened (marker set, no ids): look the object up by its marker.
    /// `may_recreate` is true when the marker is old enough that an absent object is proof.
    Adopt { may_recreate: bool },
    /// Nothing was created yet: create (after preconditions).
    Create,
}

/// The ids a create (or an adoption) yields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpIds {
    pub backup_id: Option<String>,
    pub restore_id: Option<String>,
    pub job_id: Option<String>,
}

/// A cloud error reduced to what decisions, events and logs need.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub class: ErrorClass,
    /// What went wrong, for status: never the request id, which is new on every attempt and would
    /// make every retry a status change.
    pub message: String,
    /// The cloud's `error_code`, when it gave one.
    pub code: Option<String>,
    /// The `X-Request-Id` of the failed call, for events and logs (support tickets), never status.
    pub request_id: Option<String>,
    /// Set when the call was never sent because the account's own request rate was used up: when
    /// the account has a free slot again. Not a failure of the cloud, so it is not backed off.
    pub retry_in: Option<Duration>,
}

impl Failure {
    /// The failure a cloud error stands for.
    pub fn of(e: &CloudError) -> Self {
        Self {
            class: e.class(),
            message: e.summary(),
            code: e.code().map(str::to_string),
            request_id: e.request_id().map(str::to_string),
            retry_in: e.retry_in(),
        }
    }
}

/// What this reconcile learned.
#[derive(Debug, Clone, PartialEq)]
pub enum Observation {
    /// The create call returned ids.
    Created(OpIds),
    /// The cloud refused the create: nothing was created.
    CreateRejected(Failure),
    /// The cloud refused a create made after an earlier create whose fate is unknown (its marker
    /// was set): this attempt created nothing, but that proves nothing about the earlier one.
    RecreateRejected(Failure),
    /// The create's fate is unknown (network, timeout, 5xx): it may exist.
    CreateIndeterminate(Failure),
    /// A lookup by marker found the object a crashed create made.
    Adopted {
        ids: OpIds,
        view: Option<OpView>,
        duplicates: Vec<String>,
    },
    /// The lookup failed; try again later.
    LookupFailed(Failure),
    /// A poll saw the operation.
    Progress(OpView),
    /// The cloud does not know the operation (yet): new jobs take seconds to appear.
    NotVisible,
    /// The poll failed.
    PollFailed(Failure),
    /// A search for what an interrupted create may have made found nothing to adopt.
    Unfound(Unfound),
    /// A precondition holds the resource back (credentials, busy instance, restore's backup).
    Waiting {
        reason: &'static str,
        message: String,
    },
    /// The spec is unusable; the resource fails.
    Invalid {
        reason: &'static str,
        message: String,
    },
}

impl Observation {
    /// The failure this observation reports, if it is one.
    pub fn failure(&self) -> Option<&Failure> {
        match self {
            Self::CreateRejected(f)
            | Self::RecreateRejected(f)
            | Self::CreateIndeterminate(f)
            | Self::LookupFailed(f)
            | Self::PollFailed(f) => Some(f),
            _ => None,
        }
    }
}

/// Why a search after an interrupted create found nothing to adopt.
#[derive(Debug, Clone, PartialEq)]
pub enum Unfound {
    /// The cloud lists nothing that matches (`detail` says what was looked for). Once
    /// `window_passed`, an object the create made would have shown up by now; only a kind that
    /// never creates twice is told so (the others create again).
    NotListed { window_passed: bool, detail: String },
    /// The cloud cannot be searched, or its answer cannot tell which object is the resource's.
    Impossible(String),
}

/// When to look again.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Requeue {
    /// Running: the driver places the poll with the learned schedule (bounded by `deadline_in`).
    Poll {
        deadline_in: Option<Duration>,
    },
    /// A wait that is not a failure (queued, waiting for credentials or a backup).
    After(Duration),
    /// A transient failure: retry after this base wait, doubled by the driver for every failure
    /// of the resource in a row (up to the poll cap).
    Retry(Duration),
    Never,
}

/// Kubernetes event to publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventNote {
    pub warning: bool,
    pub reason: String,
    pub note: String,
}

/// The next status, what to tell users, and when to come back.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub status: OperationStatus,
    /// Events to publish, in order (an adoption that finds a finished operation has two).
    pub events: Vec<EventNote>,
    pub requeue: Requeue,
}

/// Inputs that do not come from the cloud.
#[derive(Debug, Clone, Copy)]
pub struct Frame<'a> {
    pub now: Timestamp,
    pub generation: Option<i64>,
    pub timeout: Duration,
    /// How long a new operation may be invisible before that means it is gone.
    pub visibility_grace: Duration,
    /// The short wait for retryable conditions.
    pub retry_after: Duration,
    /// The long wait after credential problems (the cloud locks keys after repeated failures).
    pub auth_backoff: Duration,
    /// How long after `timeout` failing polls are still retried before the resource times out.
    pub timeout_grace: Duration,
    /// How long answers must go on not listing a running operation before it counts as gone.
    pub not_listed_for: Duration,
    /// `Backup` or `Restore`, for event reasons.
    pub noun: &'a str,
}

/// Sets the `Ready` condition; its transition time moves only when its truth value changes.
pub fn set_ready(s: &mut OperationStatus, f: &Frame<'_>, ready: bool, reason: &str, message: &str) {
    let status = if ready { "True" } else { "False" };
    let last = s
        .conditions
        .iter()
        .find(|c| c.type_ == READY)
        .filter(|c| c.status == status)
        .map(|c| c.last_transition_time.clone())
        .unwrap_or(Time(f.now));
    s.conditions.retain(|c| c.type_ != READY);
    s.conditions.push(Condition {
        type_: READY.into(),
        status: status.into(),
        reason: reason.into(),
        message: message.into(),
        last_transition_time: last,
        observed_generation: f.generation,
    });
    s.observed_generation = f.generation;
}
