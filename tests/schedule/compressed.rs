//! The real controllers over a compressed stretch of every-minute runs of one schedule of each
//! backup kind: exactly one child and one cloud backup per run, none skipped, and exactly the ones
//! retention keeps left at the end.

use std::sync::Arc;
use std::time::Duration;

use hwcloud_backup_operator::controller::backup_schedule::clock::Clock;
use hwcloud_backup_operator::controller::context::Settings;
use hwcloud_backup_operator::controller::schedule::PollPolicy;
use hwcloud_backup_operator::sim::SimConfig;
use serde_json::json;

use crate::harness::{Harness, fast_settings};
use crate::rig::*;

/// Children the operator created in `plural` (POSTs the API server accepted). Events cannot count
/// them: the recorder folds repeats of an event into one series.
fn created(h: &Harness, plural: &str) -> usize {
    h.api
        .calls()
        .iter()
        .filter(|c| c.method == "POST" && c.path.ends_with(&format!("/{plural}")))
        .count()
}

/// Whether every child of `plural` is final.
fn all_final(h: &Harness, plural: &str) -> bool {
    names(h, plural).iter().all(|n| {
        h.status(&child_path(plural, n))
            .phase
            .is_some_and(|p| p.is_terminal())
    })
}

/// One every-minute schedule of the compressed run.
struct Compressed {
    name: &'static str,
    plural: &'static str,
    service: &'static str,
    instance: &'static str,
    keep: usize,
    /// The template's `backupName` prefix (DDS, TaurusDB).
    backup_name: Option<&'static str>,
}

const COMPRESSED: [Compressed; 3] = [
    Compressed {
        name: "cache",
        plural: "dcsbackups",
        service: "dcs",
        instance: "redis-1",
        keep: 3,
        backup_name: None,
    },
    Compressed {
        name: "docs",
        plural: "ddsbackups",
        service: "dds",
        instance: "mongo-1",
        keep: 2,
        backup_name: Some("docs"),
    },
    Compressed {
        name: "orders",
        plural: "taurusdbbackups",
        service: "taurus",
        instance: "taurus-1",
        keep: 4,
        backup_name: Some("orders"),
    },
];

impl Compressed {
    fn spec(&self) -> serde_json::Value {
        let mut template = json!({"instanceId": self.instance});
        if let Some(n) = self.backup_name {
            template["backupName"] = json!(n);
        }
        let key = match self.service {
            "dcs" => "dcsBackup",
            "dds" => "ddsBackup",
            _ => "taurusDbBackup",
        };
        // Every minute from 02:00 to 02:09, then not before tomorrow: exactly RUNS runs, and
        // nothing to stop (a suspend after the last run would race the next one on a loaded machine).
        json!({"schedule": "0-9 2 * * *", "retention": {"keepLast": self.keep},
            "template": {key: template}})
    }

    /// Its cloud backups that are not deleted.
    fn in_cloud(&self, h: &Harness) -> Vec<hwcloud_backup_operator::sim::SimBackup> {
        h.sim
            .backups()
            .into_iter()
            .filter(|b| b.instance_id == self.instance && b.status != "deleted")
            .collect()
    }

    /// `<prefix>-202611280200` … for the last `keep` of `runs` minutes from 02:00.
    fn kept(&self, prefix: &str, runs: usize) -> Vec<String> {
        (runs - self.keep..runs)
            .map(|m| format!("{prefix}-2026112802{m:02}"))
            .collect()
    }
}

#[tokio::test]
async fn compressed_every_minute_runs_end_with_exactly_the_expected_cloud_backups() {
    // 24 s of schedule time per real second: a run every 2.5 s, each backup a few hundred ms, so a
    // loaded machine still finishes every backup before the next run is due. Ten runs of each of
    // the three kinds take about 24 s.
    const RUNS: usize = 10;
    let mut h = Harness::with(
        SimConfig {
            backup_duration: Duration::from_millis(200),
            ..SimConfig::default()
        },
        Settings {
            // Polls at most 0.5 s apart: a backup is final well before the next run, even when the
            // learned duration has drifted up on a busy machine.
            poll: PollPolicy::scaled(Duration::from_millis(100), Duration::from_millis(500)),
            ..fast_settings()
        },
    )
    .await;
    Arc::get_mut(&mut h.ctx).unwrap().schedule_clock =
        Clock::scaled(ts("2026-11-28T01:59:45Z"), 24);
    for c in &COMPRESSED {
        put_schedule(&h, c.name, "2026-11-28T01:59:00Z", c.spec(), json!({}));
    }
    let running = h.run_controllers(4);

    h.wait_until(Duration::from_secs(60), "every run of each schedule", |h| {
        COMPRESSED.iter().all(|c| created(h, c.plural) >= RUNS)
    })
    .await;
    h.wait_until(
        Duration::from_secs(30),
        "retention after the last backups",
        |h| {
            COMPRESSED.iter().all(|c| {
                all_final(h, c.plural)
                    && names(h, c.plural).len() == c.keep
                    && c.in_cloud(h).len() == c.keep
            })
        },
    )
    .await;
    running.stop().await;

    let posted: Vec<String> = h
        .api
        .calls()
        .iter()
        .filter(|c| c.method == "POST" && c.path.contains("backups"))
        .map(|c| {
            c.body["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    for c in &COMPRESSED {
        // What happened, for the messages below.
        let story = format!("created {posted:?}; events {:?}", events_for(&h, c.name));
        // One run per minute, no more, none skipped: the kept children are the last run times.
        assert_eq!(created(&h, c.plural), RUNS, "{}: {story}", c.name);
        assert_eq!(names(&h, c.plural), c.kept(c.name, RUNS), "{story}");
        let reasons = events_for(&h, c.name);
        assert!(
            !reasons
                .iter()
                .any(|r| r == "RunSkipped" || r == "MissedRunsSkipped"),
            "{}: {reasons:?}",
            c.name
        );
        // The cloud: one backup per run, and exactly the kept ones left.
        let creates = h
            .sim
            .calls()
            .iter()
            .filter(|k| k.service == c.service && k.operation == "create_backup" && k.status < 300)
            .count();
        assert_eq!(creates, RUNS, "{}", c.name);
        let left = c.in_cloud(&h);
        assert_eq!(left.len(), c.keep, "{}: {left:#?}", c.name);
        if let Some(prefix) = c.backup_name {
            let mut left: Vec<String> = left.into_iter().map(|b| b.name).collect();
            left.sort();
            assert_eq!(left, c.kept(prefix, RUNS), "{}", c.name);
        }
    }
    let dcs_deleted = h
        .sim
        .backups()
        .iter()
        .filter(|b| b.service == "dcs" && b.status == "deleted")
        .count();
    assert_eq!(dcs_deleted, RUNS - COMPRESSED[0].keep);
}
