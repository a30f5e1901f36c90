//! Benchmarks that print figures (they assert nothing): cloud calls per backup, completion-to-status
//! latency, memory per tracked resource and state-machine throughput, against the cloud simulator
//! and the in-memory API server of the tests.
//!
//! ```text
//! cargo run --release --example bench -- [all|economy|convergence|schedule|footprint|throughput]... [--quick]
//! cargo run --release --example bench -- footprint --sizes=0,10000 [--cache=stripped|whole]
//! ```
//! `economy` and `convergence` share their runs (requesting both runs the matrix once); the cases
//! of that matrix run concurrently in two groups (without and with per-instance queues), each case
//! with its own simulator, API server and context. README.md
//! ("Performance") records the figures and explains each column.

#[path = "../../tests/support/fake_api.rs"]
mod fake_api;
#[path = "../../tests/support/fake_http.rs"]
mod fake_http;
#[path = "../../tests/support/harness.rs"]
mod harness;
#[path = "../../tests/support/served.rs"]
mod served;

mod child;
mod drift;
mod economy;
mod fleet;
mod footprint;
mod report;
mod runtime;
mod tables;
mod throughput;
mod world;

use std::time::{Duration, Instant};

use economy::{Case, Start, run_case};
use runtime::Mode;
use tables::{print_convergence, print_economy, print_first};
use world::Timing;

const SCENARIOS: [&str; 5] = [
    "throughput",
    "footprint",
    "schedule",
    "economy",
    "convergence",
];
const USAGE: &str =
    "usage: bench [all|economy|convergence|schedule|footprint|throughput]... [--quick]";

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [flag, url, mode] = args.as_slice()
        && flag == "__operator"
    {
        child::run(url, mode == "trim").await;
        return;
    }
    let quick = args.iter().any(|a| a == "--quick");
    let mut wanted: Vec<&str> = args
        .iter()
        .map(String::as_str)
        .filter(|a| !a.starts_with("--"))
        .collect();
    if wanted.is_empty() || wanted.contains(&"all") {
        wanted = SCENARIOS.to_vec();
    }
    if let Some(bad) = wanted.iter().find(|w| !SCENARIOS.contains(w)) {
        eprintln!("unknown scenario {bad}\n{USAGE}");
        std::process::exit(2);
    }
    let began = Instant::now();
    println!(
        "bench: {} CPUs, {}",
        cpus(),
        if quick { "quick sizes" } else { "full sizes" }
    );
    if wanted.contains(&"throughput") {
        throughput::run(if quick { 200_000 } else { 1_000_000 });
    }
    if wanted.contains(&"footprint") {
        // `--sizes=0,10000` measures only those.
        let given: Option<Vec<usize>> = args
            .iter()
            .find_map(|a| a.strip_prefix("--sizes="))
            .map(|s| s.split(',').filter_map(|n| n.parse().ok()).collect());
        let sizes = given.unwrap_or(if quick {
            vec![0, 1_000]
        } else {
            vec![0, 1_000, 10_000, 20_000]
        });
        // `--cache=stripped` (or `whole`) measures only that cache.
        let caches: Vec<bool> = match args.iter().find_map(|a| a.strip_prefix("--cache=")) {
            Some("stripped") => vec![true],
            Some("whole") => vec![false],
            _ => vec![false, true],
        };
        footprint::run(&sizes, &caches).await;
    }
    if wanted.contains(&"schedule") {
        if quick {
            drift::run(50, 300);
        } else {
            drift::run(200, 3_000);
        }
    }
    if wanted.contains(&"economy") || wanted.contains(&"convergence") {
        let (wall, cpu) = (Instant::now(), report::cpu_seconds());
        // Cases without queues first, together; then the long queued ones, together. Kept apart
        // because the thousands of reconciles of the queued cases would slow the timing-sensitive
        // watch cases down.
        let (light, heavy): (Vec<Case>, Vec<Case>) = matrix(quick)
            .into_iter()
            .partition(|c| c.resources <= c.instances);
        let mut waves = Vec::new();
        for group in [light, heavy] {
            waves.extend(run_together(group).await);
        }
        let (wall, cpu) = (wall.elapsed().as_secs_f64(), report::cpu_seconds() - cpu);
        println!(
            "\ncloud-call cases: {wall:.0}s wall, {cpu:.0}s CPU ({:.0}% of the machine)",
            100.0 * cpu / wall / cpus() as f64
        );
        if wanted.contains(&"economy") {
            print_economy(&waves);
            print_first(&waves);
        }
        if wanted.contains(&"convergence") {
            print_convergence(&mut waves);
        }
    }
    println!("\ntotal {:.0}s", began.elapsed().as_secs_f64());
}

/// Runs `cases` concurrently, each in its own world; returns their waves in the given order.
async fn run_together(cases: Vec<Case>) -> Vec<economy::Wave> {
    let runs = cases.into_iter().map(|case| async move {
        let t = Instant::now();
        let w = run_case(case).await;
        eprintln!(
            "  ran {} {} in {:.1}s",
            case.label(),
            case.mode.label(),
            t.elapsed().as_secs_f64()
        );
        w
    });
    futures::future::join_all(runs)
        .await
        .into_iter()
        .flatten()
        .collect()
}

fn cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The cases: requeue-only driving over the sizes, the watch-triggered models on one size, and
/// one size at a slower time scale where the status timestamps' 1 s resolution matters less.
fn matrix(quick: bool) -> Vec<Case> {
    let t = |ms| Timing {
        backup: Duration::from_millis(ms),
    };
    let case = |resources, instances, timing, mode| Case {
        resources,
        instances,
        timing,
        mode,
        waves: 2,
        window: None,
        start: Start::Fresh,
    };
    // First backups (`tables::print_first`): 20 instances without and with the cloud's history,
    // and a fixed poller. Few enough that a fixed poller's calls fit in the account's share of
    // reconciles (a slowed-down poller would look cheaper than it is).
    let first = |d| {
        [Start::Fresh, Start::History, Start::Fixed].map(|start| Case {
            start,
            ..case(20, 20, d, Mode::Requeue)
        })
    };
    let r = Mode::Requeue;
    // A fresh store (events arrive before the reconcile that caused them ends), and one that
    // trails the writes by 1 ms (longer than the in-memory API server's answers take).
    let watch = [
        Mode::Watch(Duration::ZERO),
        Mode::Watch(Duration::from_millis(1)),
    ];
    if quick {
        let d = t(1_000);
        let mut m = vec![case(1, 1, d, r), case(100, 100, d, r), case(50, 10, d, r)];
        m.extend(watch.map(|w| case(20, 20, d, w)));
        m.push(case(50, 10, d, watch[0]));
        m.push(case(20, 20, t(12_000), r));
        m.extend(first(d));
        return m;
    }
    let d = t(2_000);
    let mut m = vec![
        case(1, 1, d, r),
        case(100, 100, d, r),
        case(100, 10, d, r),
        case(1_000, 100, d, r),
        // 100 backups queue on each instance (about 9 minutes): one wave, measured for 90 s.
        Case {
            waves: 1,
            window: Some(Duration::from_secs(90)),
            ..case(1_000, 10, d, r)
        },
        case(100, 10, d, watch[0]),
    ];
    m.extend(watch.map(|w| case(100, 100, d, w)));
    m.push(case(100, 100, t(24_000), r));
    m.extend(first(d));
    m
}
