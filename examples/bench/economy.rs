//! Scenarios 1 and 2: cloud calls per completed backup, and the delay from the cloud finishing a
//! backup to `Succeeded` in status, for waves of concurrent DcsBackup and DdsBackup resources.
//!
//! Each case starts a fresh world, creates `resources` of each kind spread round-robin over
//! `instances` per service, drives them all at once (one task each, see `runtime`), and measures.
//! Then a second wave of new resources runs on the same instances, where the scheduler has learned
//! the instances' backup durations from the first wave.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use hwcloud_backup_operator::crd::{DcsBackup, DdsBackup, Phase};
use hwcloud_backup_operator::sim::{SimBackup, SimCall};

use crate::fake_api::Call;
use crate::harness::Harness;
use crate::runtime::{Driven, Mode, New, drive_all};
use crate::world::{Kind, Timing, seed_history, world};

/// What the first wave of a case starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// Nothing learned, and the cloud lists no backups of the instances.
    Fresh,
    /// Nothing learned, but the cloud lists a week of daily backups of each instance (as long as
    /// the ones the case makes).
    History,
    /// No history, and every poll one interval after the last: the fixed poller the schedule
    /// replaces (the same operator with every wait clamped to the interval).
    Fixed,
}

impl Start {
    pub fn label(self) -> &'static str {
        match self {
            Start::Fresh => "",
            Start::History => " +history",
            Start::Fixed => " fixed poll",
        }
    }
}

/// One configuration of the matrix.
#[derive(Debug, Clone, Copy)]
pub struct Case {
    /// Resources per kind in each wave.
    pub resources: usize,
    /// Instances per service they are spread over.
    pub instances: usize,
    pub timing: Timing,
    pub mode: Mode,
    /// 1 or 2.
    pub waves: u8,
    /// Stop a wave after this long (queues too deep to drain within the run); unfinished ones are reported.
    pub window: Option<Duration>,
    pub start: Start,
}

impl Case {
    pub fn label(&self) -> String {
        let window = self
            .window
            .map_or(String::new(), |w| format!(" first {}s", w.as_secs()));
        format!(
            "{}/{} D={}s{window}{}",
            self.resources,
            self.instances,
            self.timing.backup.as_secs_f64(),
            self.start.label()
        )
    }
}

/// One kind in one wave.
#[derive(Debug, Default)]
pub struct KindWave {
    pub done: usize,
    pub unfinished: usize,
    pub create: usize,
    pub list: usize,
    pub job: usize,
    /// Calls answered with an error (busy, throttled, ...).
    pub rejected: usize,
    /// Reconciles that returned an error (the runtime retries them).
    pub reconcile_errors: u64,
    /// Cloud backups made in this wave beyond one per resource.
    pub duplicates: usize,
    pub status_writes: usize,
    pub events: usize,
    pub adopted_events: usize,
    pub reconciles: u64,
    /// Cloud done → `Succeeded` stored, for backups that had no learned duration at create time...
    pub cold_lags: Vec<Duration>,
    /// ... and for those that had one.
    pub warm_lags: Vec<Duration>,
}

/// One wave of one case.
#[derive(Debug)]
pub struct Wave {
    pub case: Case,
    pub wave: u8,
    pub kinds: Vec<(Kind, KindWave)>,
    pub token: usize,
    pub projects: usize,
    /// GETs the operator sent to the API server (the credentials Secret, every reconcile).
    pub reads: u64,
    pub makespan: Duration,
}

/// Runs both waves of `case`.
pub async fn run_case(case: Case) -> Vec<Wave> {
    let h = world(case.timing, case.start == Start::Fixed).await;
    if case.start == Start::History {
        for i in 0..case.instances {
            seed_history(
                &h,
                case.timing,
                &Kind::Dcs.instance(i),
                &Kind::Dds.instance(i),
            );
        }
    }
    if matches!(case.mode, Mode::Watch(_)) {
        h.api.track_versions();
    }
    let mut out = Vec::new();
    for wave in 1..=case.waves {
        h.sim.reset_calls();
        h.api.take_calls();
        let reads = h.api.reads();
        let start = Instant::now();
        // Creations spread over one second, as objects applied together still arrive apart (and
        // the status timestamps' whole-second truncation then differs between resources).
        let news = |k: Kind| -> Vec<New> {
            (0..case.resources)
                .map(|i| New {
                    kind: k.name(),
                    plural: k.plural(),
                    name: format!("w{wave}-{}-{i:05}", k.service()),
                    spec: k.spec(&k.instance(i % case.instances)),
                    at: start + Duration::from_secs(1) * i as u32 / case.resources as u32,
                })
                .collect()
        };
        let queue = case.resources.div_ceil(case.instances) as u32;
        let deadline = start
            + case
                .window
                .unwrap_or(case.timing.backup * 4 * queue + Duration::from_secs(30));
        let (dcs, dds) = tokio::join!(
            drive_all::<DcsBackup>(&h, news(Kind::Dcs), case.mode, deadline),
            drive_all::<DdsBackup>(&h, news(Kind::Dds), case.mode, deadline),
        );
        let makespan = start.elapsed();
        let calls = h.sim.calls();
        let backups: Vec<SimBackup> = h
            .sim
            .backups()
            .into_iter()
            .filter(|b| b.created_at >= start)
            .collect();
        let api_calls = h.api.take_calls();
        let kinds = [(Kind::Dcs, &dcs), (Kind::Dds, &dds)]
            .into_iter()
            .map(|(k, driven)| {
                let mut kw = count_calls(k, &calls, &backups, case.resources);
                count_api(k, &api_calls, &mut kw);
                lags(&h, k, driven, &api_calls, &backups, wave, &mut kw);
                (k, kw)
            })
            .collect();
        let op = |name: &str| calls.iter().filter(|c| c.operation == name).count();
        out.push(Wave {
            case,
            wave,
            kinds,
            token: op("token"),
            projects: op("list_projects"),
            reads: h.api.reads() - reads,
            makespan,
        });
    }
    out
}

fn count_calls(k: Kind, calls: &[SimCall], backups: &[SimBackup], resources: usize) -> KindWave {
    let mine = || calls.iter().filter(move |c| c.service == k.service());
    let op = |name: &str| mine().filter(|c| c.operation == name).count();
    let made = backups.iter().filter(|b| b.service == k.service()).count();
    KindWave {
        create: op("create_backup"),
        list: op("list_backups"),
        job: op("get_job"),
        rejected: mine().filter(|c| c.status >= 400 || c.status == 0).count(),
        duplicates: made.saturating_sub(resources),
        ..KindWave::default()
    }
}

fn count_api(k: Kind, api_calls: &[Call], kw: &mut KindWave) {
    let segment = format!("/{}/", k.plural());
    kw.status_writes = api_calls
        .iter()
        .filter(|c| c.path.contains(&segment) && c.path.ends_with("/status"))
        .count();
    let events: Vec<&Call> = api_calls
        .iter()
        .filter(|c| c.path.ends_with("/events") && c.body["regarding"]["kind"] == k.name())
        .collect();
    kw.events = events.len();
    kw.adopted_events = events
        .iter()
        .filter(|c| c.body["reason"] == "Adopted")
        .count();
}

/// Per resource: when the cloud finished its backup and when `Succeeded` was stored.
fn lags(
    h: &Harness,
    k: Kind,
    driven: &[(String, Driven)],
    api_calls: &[Call],
    backups: &[SimBackup],
    wave: u8,
    kw: &mut KindWave,
) {
    let mut succeeded_at: HashMap<&str, Instant> = HashMap::new();
    for c in api_calls {
        if let Some(obj) = c.path.strip_suffix("/status")
            && c.body["status"]["phase"] == "Succeeded"
        {
            succeeded_at.entry(obj).or_insert(c.at);
        }
    }
    let by_id: HashMap<&str, &SimBackup> = backups
        .iter()
        .filter(|b| b.service == k.service())
        .map(|b| (b.backup_id.as_str(), b))
        .collect();
    // In the first wave, the earliest backup of each instance ran with nothing learned.
    let mut first_on_instance: HashMap<&str, Instant> = HashMap::new();
    for b in by_id.values() {
        let e = first_on_instance
            .entry(&b.instance_id)
            .or_insert(b.created_at);
        *e = (*e).min(b.created_at);
    }
    for (path, d) in driven {
        kw.reconciles += d.reconciles;
        kw.reconcile_errors += d.errors;
        if !d.terminal {
            kw.unfinished += 1;
        }
        let st = h.status(path);
        if st.phase != Some(Phase::Succeeded) {
            continue;
        }
        kw.done += 1;
        let sim = st.backup_id.as_deref().and_then(|id| by_id.get(id));
        let (Some(sim), Some(at)) = (sim, succeeded_at.get(path.as_str())) else {
            continue;
        };
        let Some(done) = sim.completed_at else {
            continue;
        };
        let lag = at.saturating_duration_since(done);
        let cold =
            wave == 1 && first_on_instance.get(sim.instance_id.as_str()) == Some(&sim.created_at);
        if cold {
            kw.cold_lags.push(lag);
        } else {
            kw.warm_lags.push(lag);
        }
    }
}
