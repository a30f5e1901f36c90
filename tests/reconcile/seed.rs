//! Seeding the poll schedule from the cloud's history: the first backup of an instance whose
//! finished backups the cloud lists is polled like a later one; without history, as before; and the
//! history is looked at once per instance, not once per resource.
//!
//! Creates start 50 ms into a second: status times are whole seconds, and the schedule reads a run's
//! elapsed time from them, so a start late in a second would move every poll by up to a second and
//! the counts below would depend on the machine's timing rather than on the schedule.

use std::time::Duration;

use hwcloud_backup_operator::controller::context::Settings;
use hwcloud_backup_operator::controller::schedule::PollPolicy;
use hwcloud_backup_operator::crd::Phase;
use hwcloud_backup_operator::sim::{SeedService, SimConfig, SimHandle};

use crate::harness::{Harness, fast_settings};
use crate::kinds::Kind;

/// How long every backup takes, in the simulator and in the history it lists.
const D: Duration = Duration::from_secs(2);
/// The poll interval: the first poll when nothing is known.
const INTERVAL: Duration = Duration::from_millis(100);

/// A schedule at a tenth of the production interval, with a margin wide enough that a poll placed
/// after an expected finish lands after it even on a loaded machine.
async fn harness() -> Harness {
    let settings = Settings {
        poll: PollPolicy {
            interval: INTERVAL,
            max_interval: Duration::from_secs(10),
            min_interval: Duration::from_millis(20),
            margin: Duration::from_millis(300),
        },
        ..fast_settings()
    };
    let sim = SimConfig {
        backup_duration: D,
        ..SimConfig::default()
    };
    Harness::with(sim, settings).await
}

/// A week of daily automatic backups of `instance` that took `D` each, as the cloud lists them.
fn seed_history<K: Kind>(sim: &SimHandle, instance: &str) {
    let n = match K::KIND {
        "DcsBackup" => sim.seed_dcs_history(instance, 7, D).len(),
        "DdsBackup" => sim.seed_db_history(SeedService::Dds, instance, 7, D).len(),
        "TaurusDbBackup" => sim
            .seed_db_history(SeedService::Taurus, instance, 7, D)
            .len(),
        other => panic!("{other} has no backup history"),
    };
    assert_eq!(n, 7);
}

/// Waits until 50 ms into the next second.
async fn aligned() {
    let now = jiff::Timestamp::now();
    let into = Duration::from_nanos(now.subsec_nanosecond() as u64);
    let wait = Duration::from_secs(1) - into + Duration::from_millis(50);
    tokio::time::sleep(wait).await;
}

/// Cloud calls of one backup (IAM left out: the project lookup is made once per account).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cost {
    calls: usize,
    /// Of which reads of the instance's backups (DCS polls; DDS/TaurusDB history and record reads).
    lists: usize,
}

/// Runs one backup of `instance` to `Succeeded` and returns what it cost.
async fn one_backup<K: Kind>(h: &Harness, name: &str, instance: &str) -> Cost {
    aligned().await;
    h.sim.reset_calls();
    let path = h.create(K::KIND, K::PLURAL, name, K::plain_spec(instance));
    h.drive::<K>(&path, 400).await;
    assert_eq!(h.status(&path).phase, Some(Phase::Succeeded), "{name}");
    let calls = h.sim.calls();
    let cloud = calls.iter().filter(|c| c.service != "iam");
    Cost {
        calls: cloud.clone().count(),
        lists: cloud.filter(|c| c.operation == "list_backups").count(),
    }
}

/// The first backup of an instance with history costs what a learned one does, plus the one read
/// of the history (DCS: the first poll, at the interval, which lists the history anyway; DDS and
/// TaurusDB: one list after the create); a fresh instance without history costs more.
async fn first_backup_with_history_costs_a_learned_one<K: Kind>() {
    let h = harness().await;
    seed_history::<K>(&h.sim, "with-history");
    let cold = one_backup::<K>(&h, "cold", "no-history").await;
    let first = one_backup::<K>(&h, "first", "with-history").await;
    let learned = one_backup::<K>(&h, "learned", "with-history").await;
    assert_eq!(
        first.calls,
        learned.calls + 1,
        "first {first:?}, learned {learned:?}"
    );
    assert_eq!(
        first.lists,
        learned.lists + 1,
        "first {first:?}, learned {learned:?}"
    );
    assert!(
        cold.calls > first.calls,
        "without history {cold:?}, with {first:?}"
    );
}
each_backup_kind!(first_backup_with_history_costs_a_learned_one);

/// No history: nothing is expected and the first poll comes at the interval, as before seeding
/// existed. DDS and TaurusDB looked once (one list after the create); DCS added no call.
async fn without_history_the_first_poll_comes_at_the_interval<K: Kind>() {
    let h = harness().await;
    h.sim.reset_calls();
    let path = h.create(K::KIND, K::PLURAL, "fresh", K::plain_spec("no-history"));
    let wait = h
        .step::<K>(&path)
        .await
        .expect("a running backup is polled");
    assert_eq!(h.status(&path).phase, Some(Phase::Running));
    assert!(
        wait >= INTERVAL && wait <= INTERVAL + INTERVAL / 10,
        "first poll after {wait:?}"
    );
    assert_eq!(h.ctx.scheduler.expected(K::KIND_LABEL, "no-history"), None);
    let looked = if K::KIND == "DcsBackup" { 0 } else { 1 };
    assert_eq!(h.cloud_calls("create_backup"), 1);
    assert_eq!(h.cloud_calls("list_backups"), looked, "{:?}", h.sim.calls());
    // Its first poll (DCS) or its end (all) finds no history either: still nothing seeded, and
    // the finished backup teaches the schedule as it always did.
    h.drive::<K>(&path, 400).await;
    let learned = h.ctx.scheduler.expected(K::KIND_LABEL, "no-history");
    assert!(
        learned.is_some_and(|l| l >= D - Duration::from_millis(500)),
        "{learned:?}"
    );
}
each_backup_kind!(without_history_the_first_poll_comes_at_the_interval);

/// Two resources on an instance whose backups all fail (so nothing is ever learned): the history
/// is listed for the first only. Another instance is looked at on its own.
async fn history_is_read_once_per_instance_not_per_resource<K: Kind>() {
    let h = harness().await;
    h.sim.reset_calls();
    for name in ["first", "second"] {
        let path = h.create(K::KIND, K::PLURAL, name, K::plain_spec("failing-instance"));
        h.drive::<K>(&path, 400).await;
        assert_eq!(h.status(&path).phase, Some(Phase::Failed), "{name}");
    }
    // A failed job is not followed by a read of its record: every list is a look at history.
    assert_eq!(h.cloud_calls("list_backups"), 1, "{:?}", h.sim.calls());
    let path = h.create(K::KIND, K::PLURAL, "elsewhere", K::plain_spec("another"));
    h.step::<K>(&path).await;
    assert_eq!(h.cloud_calls("list_backups"), 2, "{:?}", h.sim.calls());
}
each_kind!(history_is_read_once_per_instance_not_per_resource:
    dds_backup DdsBackup, taurusdb_backup TaurusDbBackup);
