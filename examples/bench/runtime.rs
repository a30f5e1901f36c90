//! A model of kube-runtime's Controller for one resource: reconcile, then come back when the
//! returned requeue is due, or (watch modes) when a watch event for the object arrives.
//!
//! kube-runtime's Controller (as `controller::runner` builds it) is triggered by every change of
//! a watched object, status included, and reads the object from its reflector store when the
//! reconcile starts. So every status write the operator makes comes back as one more reconcile.
//! `Mode::Watch(lag)` models that: each write of the object (by anyone) schedules a reconcile at
//! `write + lag`, a trigger that arrives during a reconcile runs right after it, and the reconcile
//! sees the newest version written at least `lag` before it starts (the store trails the writes).
//! `Mode::Requeue` is the lower bound: requeues only, always reading the newest object.

use std::sync::Arc;
use std::time::{Duration, Instant};

use hwcloud_backup_operator::controller::driver::reconcile_once;
use hwcloud_backup_operator::controller::operation::Operation;
use hwcloud_backup_operator::controller::schedule::jitter;
use serde_json::Value;

use crate::harness::Harness;

/// How reconciles are triggered.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mode {
    /// Only the requeue each reconcile returns.
    Requeue,
    /// Requeues plus a watch event per write of the object, delivered after the given lag.
    Watch(Duration),
}

impl Mode {
    pub fn label(self) -> String {
        match self {
            Mode::Requeue => "requeue".into(),
            Mode::Watch(lag) => format!("watch+{}ms", lag.as_millis()),
        }
    }
}

/// What driving one resource cost.
#[derive(Debug, Clone, Copy, Default)]
pub struct Driven {
    pub reconciles: u64,
    pub errors: u64,
    /// Whether the resource was terminal when driving stopped.
    pub terminal: bool,
}

/// A resource to create at a given moment.
#[derive(Debug, Clone)]
pub struct New {
    pub kind: &'static str,
    pub plural: &'static str,
    pub name: String,
    pub spec: Value,
    pub at: Instant,
}

/// Creates `new` when it is due, then reconciles it like the controller runtime until it is
/// terminal and nothing more is scheduled, or until `deadline`. Returns its path and its cost.
pub async fn drive<K: Operation>(
    h: Arc<Harness>,
    new: New,
    mode: Mode,
    deadline: Instant,
) -> (String, Driven) {
    tokio::time::sleep_until(new.at.into()).await;
    let path = h.create(new.kind, new.plural, &new.name, new.spec);
    (
        path.clone(),
        drive_existing::<K>(h, path, mode, deadline).await,
    )
}

async fn drive_existing<K: Operation>(
    h: Arc<Harness>,
    path: String,
    mode: Mode,
    deadline: Instant,
) -> Driven {
    let lag = match mode {
        Mode::Requeue => None,
        Mode::Watch(lag) => Some(lag),
    };
    let mut out = Driven::default();
    // Versions of the object already turned into triggers (the create is the first trigger).
    let mut seen = 0;
    let mut triggers: Vec<Instant> = Vec::new();
    // Without watch events the first reconcile is due at once; with them, the create's event is it.
    let mut due = lag.is_none().then(Instant::now);
    loop {
        if let Some(lag) = lag {
            let new = h.api.versions_since(&path, seen);
            seen += new.len();
            triggers.extend(new.into_iter().map(|w| w + lag));
        }
        let next = triggers.iter().copied().chain(due).min();
        let terminal = h.status(&path).is_terminal();
        let Some(at) = next else {
            out.terminal = terminal;
            return out;
        };
        if (lag.is_none() && terminal) || at > deadline {
            out.terminal = terminal;
            return out;
        }
        // A due reconcile runs at once (a zero sleep would still wait for the next timer tick).
        if at > Instant::now() {
            tokio::time::sleep_until(at.into()).await;
        }
        let start = Instant::now();
        triggers.retain(|t| *t > start);
        let obj = match lag {
            None => h.api.get(&path),
            Some(lag) => h
                .api
                .get_as_of(&path, start.checked_sub(lag).unwrap_or(start))
                .or_else(|| h.api.get(&path)),
        };
        let Some(obj) = obj else {
            out.terminal = terminal;
            return out;
        };
        let obj: K = serde_json::from_value(obj).expect("object deserialises");
        out.reconciles += 1;
        due = match reconcile_once(&obj, &h.ctx).await {
            Ok(wait) => wait.map(|w| Instant::now() + w),
            Err(_) => {
                // As `driver::error_policy`: retry after the short wait.
                out.errors += 1;
                Some(Instant::now() + jitter(h.ctx.settings.retry_after))
            }
        };
    }
}

/// Drives many resources at once, one task each; returns their paths and costs in input order.
pub async fn drive_all<K: Operation>(
    h: &Arc<Harness>,
    news: Vec<New>,
    mode: Mode,
    deadline: Instant,
) -> Vec<(String, Driven)> {
    let tasks: Vec<_> = news
        .into_iter()
        .map(|n| tokio::spawn(drive::<K>(h.clone(), n, mode, deadline)))
        .collect();
    let mut out = Vec::with_capacity(tasks.len());
    for t in tasks {
        out.push(t.await.expect("driver task finishes"));
    }
    out
}
