//! The operator's story in its log, at the default level, so that `kubectl logs` alone explains
//! what happened to every resource:
//!
//! - `info`: one line per phase change, with the kind, namespace and name, instance, the cloud
//!   ids, the phase, the `Ready` reason and, once final, how long the cloud operation took.
//! - `warn`: one line when a resource starts retrying for a new reason (the cloud's error code and
//!   request id included), not one per attempt; the status keeps the reason, so a retry for the
//!   same reason says nothing new. Also an adoption, duplicates found, and a failed cleanup.
//!
//! The lines carry what status and events already show (names, ids, reasons, cloud error codes and
//! messages, request ids), never anything read from a Secret.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use kube::ResourceExt;

use crate::controller::decide::{Failure, Observation, READY, reason};
use crate::controller::operation::Operation;
use crate::crd::{OperationStatus, Phase};

/// What an observation adds to the story beyond the status it leads to.
#[derive(Debug, Default)]
pub struct Story {
    failure: Option<Failure>,
    /// `Some(duplicates)` when the observation adopted an object an interrupted create made.
    adopted: Option<Vec<String>>,
}

impl Story {
    /// Takes what the log needs from `obs` before the state machine consumes it.
    pub fn of(obs: &Observation) -> Self {
        match obs {
            Observation::Adopted { duplicates, .. } => Self {
                failure: None,
                adopted: Some(duplicates.clone()),
            },
            _ => Self {
                failure: obs.failure().cloned(),
                adopted: None,
            },
        }
    }

    /// Logs what changed from `before` to `after` (call it once `after` is written).
    pub fn tell<K: Operation>(&self, obj: &K, before: &OperationStatus, after: &OperationStatus) {
        let who = Who::of(obj);
        if let Some(duplicates) = &self.adopted {
            adopted(&who, after, duplicates);
        }
        let (was, now) = (ready_reason(before), ready_reason(after));
        // Every resource starts Pending; the lines begin when it moves on.
        let phase = |s: &OperationStatus| s.phase.unwrap_or(Phase::Pending);
        if phase(after) != phase(before) {
            phase_changed(&who, after, now, self.failure.as_ref());
        } else if now != was && !after.is_terminal() {
            retrying(&who, now, self.failure.as_ref(), after);
        }
    }
}

/// The resource a line is about.
struct Who<'a> {
    kind: std::borrow::Cow<'static, str>,
    namespace: String,
    name: String,
    instance: &'a str,
}

impl<'a> Who<'a> {
    fn of<K: Operation>(obj: &'a K) -> Self {
        Self {
            kind: K::kind(&()),
            namespace: obj.namespace().unwrap_or_default(),
            name: obj.name_any(),
            instance: obj.instance_id(),
        }
    }
}

fn phase_changed(who: &Who<'_>, s: &OperationStatus, reason: &str, failure: Option<&Failure>) {
    let phase = s.phase.map_or("", Phase::as_str);
    // Only a final line says how it ended and how long it took.
    let (detail, took) = match s.is_terminal() {
        true => (s.message.as_deref(), took(s).map(|d| d.as_secs())),
        false => (None, None),
    };
    tracing::info!(
        kind = %who.kind,
        namespace = %who.namespace,
        name = %who.name,
        instance = who.instance,
        phase,
        reason,
        backup_id = s.backup_id.as_deref(),
        restore_id = s.restore_id.as_deref(),
        job_id = s.job_id.as_deref(),
        duration_secs = took,
        code = failure.and_then(|f| f.code.as_deref()),
        request_id = failure.and_then(|f| f.request_id.as_deref()),
        detail,
        "phase changed"
    );
}

fn retrying(who: &Who<'_>, reason: &str, failure: Option<&Failure>, s: &OperationStatus) {
    match failure {
        Some(f) => tracing::warn!(
            kind = %who.kind,
            namespace = %who.namespace,
            name = %who.name,
            instance = who.instance,
            reason,
            code = f.code.as_deref(),
            request_id = f.request_id.as_deref(),
            error = %f.message,
            "retrying after a cloud error"
        ),
        // A missing or incomplete Secret: no cloud call was made, but someone has to act.
        None if reason == reason::CREDENTIALS_ERROR => tracing::warn!(
            kind = %who.kind,
            namespace = %who.namespace,
            name = %who.name,
            instance = who.instance,
            reason,
            detail = s.message.as_deref(),
            "waiting for usable credentials"
        ),
        // Expected waits (the operator's own queue, a restore's backup): the reason says it all.
        None => tracing::debug!(
            kind = %who.kind,
            namespace = %who.namespace,
            name = %who.name,
            reason,
            "waiting"
        ),
    }
}

fn adopted(who: &Who<'_>, s: &OperationStatus, duplicates: &[String]) {
    tracing::warn!(
        kind = %who.kind,
        namespace = %who.namespace,
        name = %who.name,
        instance = who.instance,
        backup_id = s.backup_id.as_deref(),
        restore_id = s.restore_id.as_deref(),
        job_id = s.job_id.as_deref(),
        "adopted an existing cloud object instead of creating another"
    );
    if !duplicates.is_empty() {
        tracing::warn!(
            kind = %who.kind,
            namespace = %who.namespace,
            name = %who.name,
            instance = who.instance,
            duplicates = %duplicates.join(","),
            "more cloud objects carry this resource's marker; only the oldest was adopted"
        );
    }
}

fn ready_reason(s: &OperationStatus) -> &str {
    s.conditions
        .iter()
        .find(|c| c.type_ == READY)
        .map_or("", |c| c.reason.as_str())
}

/// How long the cloud operation ran, from its start to the final phase.
fn took(s: &OperationStatus) -> Option<Duration> {
    let (start, end) = (s.started_at.as_ref()?, s.completed_at.as_ref()?);
    end.0.duration_since(start.0).try_into().ok()
}

/// What the log was told about resources, where status cannot say it (a failing cleanup retries
/// without a status write), so that a retry for the same cause is not logged again.
#[derive(Debug, Default)]
pub struct Journal {
    /// UID → the cause of the cleanup failure last logged.
    cleanup: Mutex<HashMap<String, String>>,
}

impl Journal {
    /// A cleanup that failed: `warn` the first time per resource and cause, `debug` on repeats.
    pub fn cleanup_failed<K: Operation>(&self, obj: &K, message: &str) {
        let uid = obj.uid().unwrap_or_default();
        // The cause is what comes before the details (which carry ids that change per attempt).
        let cause = message.split(':').next().unwrap_or(message).to_string();
        let new = {
            let mut told = self.cleanup.lock().unwrap_or_else(|p| p.into_inner());
            told.insert(uid, cause.clone()).as_ref() != Some(&cause)
        };
        let who = Who::of(obj);
        if new {
            tracing::warn!(
                kind = %who.kind,
                namespace = %who.namespace,
                name = %who.name,
                instance = who.instance,
                backup_id = obj.status().and_then(|s| s.backup_id.as_deref()),
                error = message,
                "cleanup failed; the finalizer stays and the cleanup is retried"
            );
        } else {
            tracing::debug!(name = %who.name, error = message, "cleanup failed again");
        }
    }

    /// Resources with a remembered cleanup failure.
    pub fn len(&self) -> usize {
        self.cleanup.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Keeps only the resources `keep` accepts (housekeeping drops those gone from the cache).
    pub fn retain(&self, mut keep: impl FnMut(&str) -> bool) {
        let mut told = self.cleanup.lock().unwrap_or_else(|p| p.into_inner());
        told.retain(|uid, _| keep(uid));
    }
}

#[cfg(test)]
#[path = "journal_tests.rs"]
mod tests;
