//! Final resources are cached with trimmed statuses (no message, conditions, cloudStatus or size):
//! the real controllers reconcile them exactly as they reconcile them cached whole, in every state
//! a reconcile treats differently.

use std::time::Duration;

use http::Method;
use hwcloud_backup_operator::controller::runner::RunOptions;
use serde_json::{Value, json};

use crate::fake_api::object_path;
use crate::harness::{Harness, NS, Running};
use crate::served::{self, API_VERSION, KINDS};

/// What a resource's metadata says besides its status.
#[derive(Clone, Copy, Debug)]
enum State {
    /// No finalizer, not being deleted.
    Plain,
    /// The cleanup finalizer, not being deleted.
    Finalized,
    /// The cleanup finalizer and a deletion.
    Deleting,
}

const STATES: [State; 3] = [State::Plain, State::Finalized, State::Deleting];

/// Every final phase, deletion policy and state, for each of the four kinds, in the fake API
/// server; returns the paths of those being deleted.
fn seed(h: &Harness) -> Vec<String> {
    let mut deleting = Vec::new();
    let mut i = 0;
    for (kind, plural) in KINDS {
        // A restore has no deletion policy: it deletes nothing in the cloud.
        let policies: &[&str] = if kind == "DcsRestore" {
            &["Retain"]
        } else {
            &["Retain", "Delete"]
        };
        for phase in ["Succeeded", "Failed"] {
            for policy in policies {
                for state in STATES {
                    i += 1;
                    let name = format!("{}-{phase}-{policy}-{state:?}", kind.to_lowercase())
                        .to_lowercase();
                    let mut spec = served::spec(kind, &format!("instance-{i}"), i);
                    if kind != "DcsRestore" {
                        spec["deletionPolicy"] = json!(policy);
                    }
                    let mut status = served::succeeded(kind, i);
                    if phase == "Failed" {
                        status["phase"] = json!("Failed");
                        status["message"] = json!("the cloud reported the backup failed");
                        status["conditions"][0]["status"] = json!("False");
                        status["conditions"][0]["reason"] = json!("CloudError");
                    }
                    let mut obj = served::served(kind, NS, &name, spec, Some(status));
                    // The same UID in both runs: cleanup finds cloud backups by a marker made of it.
                    obj["metadata"]["uid"] = json!(format!("0d9c5f3e-1111-4a2b-9c3d-{i:012}"));
                    if !matches!(state, State::Plain) {
                        obj["metadata"]["finalizers"] = json!(["backup.hwcloud.dev/cleanup"]);
                    }
                    let path = object_path(API_VERSION, plural, NS, &name);
                    h.api.put(&path, obj);
                    if matches!(state, State::Deleting) {
                        h.api.delete(&path);
                        deleting.push(path);
                    }
                }
            }
        }
    }
    deleting
}

/// What the controllers did, in an order that does not depend on scheduling: API writes (the
/// body without its resourceVersion precondition), events (reason and object), cloud calls.
#[derive(Debug, PartialEq)]
struct Effects {
    writes: Vec<String>,
    events: Vec<String>,
    cloud: Vec<String>,
}

/// Runs the real controllers, caching trimmed objects or whole ones, until the deleted resources
/// are gone and every resource was reconciled; returns what they did.
async fn run(trim: bool) -> Effects {
    let h = Harness::new().await;
    let deleting = seed(&h);
    let opts = RunOptions {
        namespaces: Vec::new(),
        concurrency: 4,
        strip: trim,
        label_selector: None,
    };
    let running = Running::start(h.ctx.clone(), opts);
    h.wait_until(Duration::from_secs(30), "the deleted resources gone", |h| {
        running.synced() && deleting.iter().all(|p| h.api.get(p).is_none())
    })
    .await;
    // Anything else a reconcile started (a write, an event, a requeue) would land now.
    tokio::time::sleep(Duration::from_millis(500)).await;
    running.stop().await;
    let mut writes: Vec<String> = h
        .api
        .calls()
        .into_iter()
        .filter(|c| c.method != Method::GET && !c.path.contains("/events"))
        .map(|c| {
            let mut body = c.body.clone();
            if let Some(meta) = body.get_mut("metadata").and_then(Value::as_object_mut) {
                meta.remove("resourceVersion");
            }
            format!("{} {} {body}", c.method, c.path)
        })
        .collect();
    writes.sort();
    let mut events: Vec<String> = h
        .api
        .events()
        .iter()
        .map(|e| format!("{} {}", e["reason"], e["regarding"]["name"]))
        .collect();
    events.sort();
    let mut cloud: Vec<String> = h
        .sim
        .calls()
        .iter()
        .map(|c| format!("{} {} {}", c.service, c.operation, c.status))
        .collect();
    cloud.sort();
    Effects {
        writes,
        events,
        cloud,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn final_resources_cached_trimmed_are_reconciled_as_if_cached_whole() {
    let trimmed = run(true).await;
    let whole = run(false).await;
    // The comparison means something: finalizers were added and removed, cloud backups deleted.
    assert!(
        trimmed.writes.iter().any(|w| w.starts_with("PATCH")),
        "{trimmed:#?}"
    );
    assert!(
        trimmed.cloud.iter().any(|c| c.contains("delete_backup")),
        "{trimmed:#?}"
    );
    assert!(
        !trimmed.writes.iter().any(|w| w.contains("/status")),
        "a final status is never written: {trimmed:#?}"
    );
    assert_eq!(trimmed, whole);
}
