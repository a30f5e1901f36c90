//! The tables of scenarios 1 and 2, from the waves `economy` ran.

use crate::economy::{KindWave, Start, Wave};
use crate::report::{Table, ms, per, quantile};
use crate::runtime::Mode;
use crate::world::Kind;

/// Scenario 1: cloud calls (and Kubernetes API work) per completed backup.
pub fn print_economy(waves: &[Wave]) {
    let mut t = Table::new(
        "Cloud calls per completed backup (case = resources/instances per kind; D = simulated backup \
         duration; /b = per completed backup)",
        &[
            "case",
            "mode",
            "wave",
            "kind",
            "done",
            "create",
            "list",
            "job",
            "IAM",
            "errors",
            "dups",
            "calls/b",
            "status writes/b",
            "events/b",
            "Adopted ev",
            "reconciles/b",
            "secret GETs/b",
            "makespan s",
        ],
    );
    for w in waves {
        let mut all = KindWave::default();
        for (k, kw) in &w.kinds {
            t.row(row(w, k.name(), kw, 0, None));
            all.done += kw.done;
            all.unfinished += kw.unfinished;
            all.create += kw.create;
            all.list += kw.list;
            all.job += kw.job;
            all.rejected += kw.rejected;
            all.reconcile_errors += kw.reconcile_errors;
            all.duplicates += kw.duplicates;
            all.status_writes += kw.status_writes;
            all.events += kw.events;
            all.adopted_events += kw.adopted_events;
            all.reconciles += kw.reconciles;
        }
        t.row(row(w, "both", &all, w.token + w.projects, Some(w.reads)));
    }
    t.print();
}

fn row(w: &Wave, kind: &str, kw: &KindWave, iam: usize, reads: Option<u64>) -> Vec<String> {
    let done = kw.done;
    let unfinished = if kw.unfinished > 0 {
        format!(" ({} unfinished)", kw.unfinished)
    } else {
        String::new()
    };
    let calls = kw.create + kw.list + kw.job + iam;
    vec![
        w.case.label(),
        w.case.mode.label(),
        w.wave.to_string(),
        kind.into(),
        format!("{done}{unfinished}"),
        kw.create.to_string(),
        kw.list.to_string(),
        kw.job.to_string(),
        if reads.is_some() {
            iam.to_string()
        } else {
            String::new()
        },
        format!("{}/{}", kw.rejected, kw.reconcile_errors),
        kw.duplicates.to_string(),
        per(calls as f64, done),
        per(kw.status_writes as f64, done),
        per(kw.events as f64, done),
        kw.adopted_events.to_string(),
        per(kw.reconciles as f64, done),
        reads.map_or(String::new(), |r| per(r as f64, done)),
        format!("{:.1}", w.makespan.as_secs_f64()),
    ]
}

/// Scenario 1, first backups: cloud calls per backup for the first backup of each instance, with
/// and without the cloud's history of it, beside a fixed poller and a learned schedule (the
/// History, Fixed and Fresh cases of one size and timing).
pub fn print_first(waves: &[Wave]) {
    let Some(history) = waves.iter().find(|w| w.case.start == Start::History) else {
        return;
    };
    let like = |start: Start, wave: u8| {
        waves.iter().find(|w| {
            let c = &w.case;
            (
                c.start,
                w.wave,
                c.resources,
                c.instances,
                c.mode,
                c.timing.backup,
            ) == (
                start,
                wave,
                history.case.resources,
                history.case.instances,
                Mode::Requeue,
                history.case.timing.backup,
            )
        })
    };
    // The fixed poller's second wave: its first also made the one read of history the operator
    // makes on a new DDS instance, which a fixed poller would not.
    let columns = [
        like(Start::Fixed, 2),
        like(Start::Fresh, 1),
        like(Start::History, 1),
        like(Start::Fresh, 2),
    ];
    let mut t = Table::new(
        &format!(
            "First backups: cloud calls per backup, {} (one backup per instance and wave)",
            history.case.label()
        ),
        &[
            "kind",
            "fixed poll every interval",
            "first, no history",
            "first, with history",
            "learned (wave 2)",
        ],
    );
    for kind in [Kind::Dcs, Kind::Dds] {
        let mut cells = vec![kind.name().to_string()];
        cells.extend(columns.iter().map(|w| calls_of(*w, kind)));
        t.row(cells);
    }
    t.print();
}

/// Cloud calls per completed backup of `kind` in `wave` (IAM left out), or `-`.
fn calls_of(wave: Option<&Wave>, kind: Kind) -> String {
    let Some(kw) = wave.and_then(|w| w.kinds.iter().find(|(k, _)| *k == kind)) else {
        return "-".into();
    };
    let kw = &kw.1;
    per((kw.create + kw.list + kw.job) as f64, kw.done)
}

/// Scenario 2: from the cloud finishing a backup to `Succeeded` stored in the API server.
pub fn print_convergence(waves: &mut [Wave]) {
    let mut t = Table::new(
        "Cloud done -> Succeeded stored (ms); cold = first backup of its instance (nothing learned)",
        &[
            "case", "mode", "wave", "kind", "schedule", "n", "interval", "cap", "p50", "p99", "max",
        ],
    );
    for w in waves.iter_mut() {
        let (case, wave) = (w.case, w.wave);
        for (k, kw) in w.kinds.iter_mut() {
            for (label, lags) in [("cold", &mut kw.cold_lags), ("learned", &mut kw.warm_lags)] {
                if lags.is_empty() {
                    continue;
                }
                t.row(vec![
                    case.label(),
                    case.mode.label(),
                    wave.to_string(),
                    k.name().into(),
                    label.into(),
                    lags.len().to_string(),
                    case.timing.interval().as_millis().to_string(),
                    case.timing.cap().as_millis().to_string(),
                    ms(quantile(lags, 0.5)),
                    ms(quantile(lags, 0.99)),
                    ms(quantile(lags, 1.0)),
                ]);
            }
        }
    }
    t.print();
}
