//! What `kubectl logs` shows at the default level after twenty resources went through a cloud that
//! fails half of the calls: every resource's phase changes with its ids, and one warning per
//! resource and retry reason with the cloud's error code and request id, not one per attempt.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use hwcloud_backup_operator::sim::Faults;
use serde_json::Value;

use crate::capture;
use crate::harness::SECRET;
use crate::proxy::LossyProxy;
use crate::rig::{self, Kind};

const RETRY_REASONS: [&str; 4] = [
    "Throttled",
    "CloudError",
    "InstanceBusy",
    "CredentialsError",
];

/// How often the status of `path` moved into a retry reason (what one warn line each is for).
fn retry_episodes(snap: &rig::Snapshot, path: &str) -> usize {
    let reasons: Vec<String> = snap
        .status_history(path)
        .iter()
        .map(|s| {
            s.conditions
                .iter()
                .find(|c| c.type_ == "Ready")
                .map(|c| c.reason.clone())
                .unwrap_or_default()
        })
        .collect();
    (0..reasons.len())
        .filter(|&i| RETRY_REASONS.contains(&reasons[i].as_str()))
        .filter(|&i| i == 0 || reasons[i - 1] != reasons[i])
        .count()
}

fn lines_about<'a>(lines: &'a [Value], name: &str, message: &str) -> Vec<&'a Value> {
    lines
        .iter()
        .filter(|l| l["name"] == name && l["message"] == message)
        .collect()
}

// current_thread (the default): the capture sees every task of the test, the operator's included.
#[tokio::test]
async fn twenty_resources_under_cloud_faults_tell_their_story_at_info() {
    let capture = capture::start("info").await;
    let h = rig::fast_harness().await;
    // Answers lost after the cloud acted, besides the errors.
    let proxy = LossyProxy::start(h.sim.base_url()).await;
    proxy.set_lose_rate(0.1);
    h.put_secret(SECRET, proxy.secret_data(h.secret_data()));
    let mut resources = Vec::new();
    for (i, kind) in [Kind::DcsBackup, Kind::Dds, Kind::Taurus, Kind::DcsRestore]
        .into_iter()
        .cycle()
        .take(20)
        .enumerate()
    {
        let name = format!("story-{i}");
        let path = rig::resource(&h, kind, &name, &format!("inst-{i}")).await;
        resources.push((kind, name, path));
    }
    h.sim.set_faults(Faults {
        error_rate: 0.5,
        ..Faults::default()
    });

    let ctx = rig::restart(&h.api, rig::settings(), None);
    let mut tasks = tokio::task::JoinSet::new();
    for (kind, _, path) in resources.clone() {
        let (api, ctx) = (h.api.clone(), Arc::clone(&ctx));
        tasks.spawn(async move {
            rig::run_to_terminal(&api, &ctx, kind, &path, Duration::from_secs(60)).await
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("no reconcile panics").expect("terminal");
    }
    let snap = rig::Snapshot::take(&h.api, &h.sim);
    for (kind, _, path) in &resources {
        rig::assert_one_and_succeeded(&h.api, &snap, *kind, path);
    }

    let lines = capture.logs.lines();
    assert!(!lines.is_empty(), "the log at the default level is empty");
    let mut warned = 0;
    for (kind, name, path) in &resources {
        let st = rig::status(&h.api, path);
        let phases = lines_about(&lines, name, "phase changed");
        let phase = |p: &str| phases.iter().copied().find(|l| l["phase"] == p);
        let about: Vec<&Value> = lines
            .iter()
            .filter(|l| l["name"] == name.as_str())
            .collect();
        let done =
            phase("Succeeded").unwrap_or_else(|| panic!("{name}: no Succeeded line: {about:#?}"));
        // An adoption that finds the operation finished goes from Pending straight to Succeeded.
        let adopted = lines_about(
            &lines,
            name,
            "adopted an existing cloud object instead of creating another",
        );
        let started = phase("Running")
            .or(adopted.first().copied())
            .unwrap_or_else(|| panic!("{name}: no Running or adoption line: {about:#?}"));
        for l in [started, done] {
            assert!(l["level"] == "INFO" || l["level"] == "WARN", "{l:#}");
            assert_eq!(l["kind"], kind.kind(), "{l:#}");
            assert_eq!(l["namespace"], crate::harness::NS, "{l:#}");
            assert!(
                l["instance"]
                    .as_str()
                    .is_some_and(|i| i.starts_with("inst-"))
            );
            let id = if *kind == Kind::DcsRestore {
                "restore_id"
            } else {
                "backup_id"
            };
            assert_eq!(l[id].as_str(), kind.id_of(&st).as_deref(), "{l:#}");
        }
        assert_eq!(done["level"], "INFO");
        assert_eq!(done["reason"], "Succeeded");
        assert!(done["duration_secs"].is_u64(), "{done:#}");

        let retries = lines_about(&lines, name, "retrying after a cloud error");
        for l in &retries {
            assert_eq!(l["level"], "WARN");
            // The cloud answered: its error code and request id are in the line.
            if l["error"].as_str().is_some_and(|e| e.contains(" HTTP ")) {
                assert!(
                    l["code"].is_string() && l["request_id"].is_string(),
                    "{l:#}"
                );
            }
        }
        let episodes = retry_episodes(&snap, path);
        assert!(
            retries.len() <= episodes,
            "{name}: {} retry warnings for {episodes} changes of reason",
            retries.len()
        );
        warned += retries.len();
    }
    let failed_calls = h
        .sim
        .calls()
        .iter()
        .filter(|c| c.status == 429 || c.status == 500)
        .count();
    assert!(warned > 0, "no retry was logged");
    assert!(
        lines
            .iter()
            .any(|l| l["message"] == "retrying after a cloud error"
                && l["code"].is_string()
                && l["request_id"].is_string()),
        "no retry line names the cloud's error code and request id"
    );
    assert!(
        warned < failed_calls,
        "one line per attempt: {warned} warnings for {failed_calls} failed calls"
    );
    let by_level = lines.iter().fold(HashMap::new(), |mut m, l| {
        *m.entry(l["level"].as_str().unwrap_or_default().to_string())
            .or_insert(0) += 1;
        m
    });
    assert!(!by_level.contains_key("DEBUG"), "{by_level:?}");
}
