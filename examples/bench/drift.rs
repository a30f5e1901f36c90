//! Scenario "schedule": the learned poll schedule over many consecutive backups of one instance, at
//! production settings, computed without waiting (no simulator: a model of the cloud's clock).
//!
//! For each backup the model asks the operator's own `Scheduler` where to poll (`next_poll` plus
//! `jitter`, exactly as `driver::finish` does), lets a backup of fixed duration `D` report linear
//! progress, and records what `driver::finish` records: `completedAt - startedAt`, both truncated
//! to whole seconds as Kubernetes timestamps are (the elapsed time used for progress estimates is
//! overstated by the same truncation). Cloud and API latencies are left out.

use std::time::Duration;

use hwcloud_backup_operator::controller::schedule::{PollPolicy, Scheduler, jitter};
use rand::Rng;

use crate::report::Table;

const KIND: &str = "dcsbackup";
const CHECKPOINTS: [usize; 9] = [1, 2, 3, 10, 30, 100, 300, 1000, 3000];

/// One backup: returns (polls, lag from completion to the poll that saw it, recorded duration).
fn one(s: &Scheduler, instance: &str, d: f64, rng: &mut impl Rng) -> (u32, f64, f64) {
    // Wall-clock second fraction at which `startedAt` was taken (it is stored truncated).
    let frac: f64 = rng.random_range(0.0..1.0);
    let mut t = 0.0;
    let mut polls = 0;
    let mut progress = None;
    loop {
        // After the create, `finish` knows startedAt exactly; later it reads it back truncated.
        let elapsed = Duration::from_secs_f64(if polls == 0 { 0.0 } else { t + frac });
        t += jitter(s.next_poll(KIND, instance, elapsed, progress)).as_secs_f64();
        polls += 1;
        if t >= d {
            let took = (t + frac).floor() - frac.floor();
            return (polls, t - d, took);
        }
        progress = Some(100.0 * t / d);
    }
}

/// Runs `instances` independent sequences of `backups` each and prints means at the checkpoints.
pub fn run(instances: usize, backups: usize) {
    let policy = PollPolicy::default();
    let mut t = Table::new(
        &format!(
            "Learned schedule over consecutive backups of one instance (model; production policy: \
             interval {}s, margin {}s, cap {}s; mean of {instances} instances)",
            policy.interval.as_secs(),
            policy.margin.as_secs(),
            policy.max_interval.as_secs()
        ),
        &["D s", "backup #", "polls", "lag s", "learned s"],
    );
    let mut rng = rand::rng();
    for d in [120.0, 600.0] {
        let mut sums = vec![(0.0, 0.0, 0.0); backups];
        for i in 0..instances {
            let s = Scheduler::new(policy);
            let inst = format!("instance-{i}");
            for sum in sums.iter_mut() {
                let (polls, lag, took) = one(&s, &inst, d, &mut rng);
                s.record(KIND, &inst, Duration::from_secs_f64(took));
                let learned = s.expected(KIND, &inst).map_or(0.0, |e| e.as_secs_f64());
                sum.0 += f64::from(polls);
                sum.1 += lag;
                sum.2 += learned;
            }
        }
        let n = instances as f64;
        for k in CHECKPOINTS.into_iter().filter(|k| *k <= backups) {
            let (polls, lag, learned) = sums[k - 1];
            t.row(vec![
                format!("{d:.0}"),
                k.to_string(),
                format!("{:.2}", polls / n),
                format!("{:.1}", lag / n),
                format!("{:.0}", learned / n),
            ]);
        }
    }
    t.print();
}
