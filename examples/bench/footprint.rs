//! Scenario 3a: resident memory of the operator with N resources, through the real controllers.
//!
//! For each size, the benchmark builds a world of N resources of the four kinds (see `fleet`) in
//! the in-memory API server, serves it over HTTP, and starts the operator in a child process of its
//! own (`child`: context, controllers, `/metrics`, `/readyz`, leader election off), once caching
//! whole objects and once caching them stripped. It measures:
//! - the time from the API server's answer to the initial LISTs to `/readyz` answering 200;
//! - once every resource was reconciled (the `reconcile_total` counters) and the new ones have
//!   succeeded, plus 3 s: the child's `VmRSS` and its peak (`VmHWM`) from `/proc`;
//! - cloud calls and status writes caused by the finished resources (a restart must make none);
//! - the per-resource maps the child reports (claims, remembered statuses, journal, list cache).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hwcloud_backup_operator::crd::Phase;

use crate::fleet::{Fleet, fleet};
use crate::report::Table;

/// The collections whose initial LIST readiness waits for.
const LISTS: [&str; 4] = ["dcsbackups", "dcsrestores", "ddsbackups", "taurusdbbackups"];

/// One measured run.
struct Row {
    n: usize,
    trim: bool,
    rss_kib: u64,
    peak_kib: u64,
    /// CPU time the child used until the measurement (user + system).
    cpu: Duration,
    ready_after: Option<Duration>,
    final_cloud_calls: usize,
    final_status_writes: usize,
    state: String,
}

/// Measures every size with whole and with stripped objects (or only the `caches` given), and
/// prints the table.
pub async fn run(sizes: &[usize], caches: &[bool]) {
    let mut rows = Vec::new();
    for &n in sizes {
        for &trim in caches {
            let row = measure(n, trim).await;
            eprintln!("  footprint N={n} {}: {} MiB", mode(trim), mib(row.rss_kib));
            rows.push(row);
        }
    }
    print(&rows);
}

fn mode(trim: bool) -> &'static str {
    if trim { "stripped" } else { "whole" }
}

fn mib(kib: u64) -> String {
    format!("{:.1}", kib as f64 / 1024.0)
}

fn print(rows: &[Row]) {
    let mut t = Table::new(
        "Operator process memory with N resources (fresh process per row; RSS once all were reconciled)",
        &[
            "N",
            "cache",
            "RSS MiB",
            "peak MiB",
            "CPU s",
            "ready after LIST (ms)",
            "cloud calls (finished)",
            "status writes (finished)",
            "per-resource maps",
        ],
    );
    for r in rows {
        t.row(vec![
            r.n.to_string(),
            mode(r.trim).into(),
            mib(r.rss_kib),
            mib(r.peak_kib),
            format!("{:.1}", r.cpu.as_secs_f64()),
            r.ready_after
                .map_or("-".into(), |d| d.as_millis().to_string()),
            r.final_cloud_calls.to_string(),
            r.final_status_writes.to_string(),
            r.state.clone(),
        ]);
    }
    t.print();
    // Growth per 1,000 between consecutive sizes of the same mode.
    for trim in [false, true] {
        let of_mode: Vec<&Row> = rows.iter().filter(|r| r.trim == trim).collect();
        for pair in of_mode.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            let per =
                (b.rss_kib as f64 - a.rss_kib as f64) / 1024.0 * 1000.0 / (b.n - a.n).max(1) as f64;
            println!(
                "{}: {:.2} MiB per further 1,000 from {} to {}",
                mode(trim),
                per,
                a.n,
                b.n
            );
        }
    }
}

/// The child's output: its HTTP port, then its latest STATE line.
#[derive(Default)]
struct Heard {
    port: Option<u16>,
    state: String,
}

fn spawn_child(url: &str, trim: bool) -> (Child, Arc<Mutex<Heard>>) {
    let exe = std::env::current_exe().expect("own path");
    let mut child = Command::new(exe)
        .args(["__operator", url, if trim { "trim" } else { "keep" }])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("child starts");
    let heard = Arc::new(Mutex::new(Heard::default()));
    let out = child.stdout.take().expect("stdout");
    let sink = heard.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let mut h = sink.lock().unwrap();
            if let Some(p) = line.strip_prefix("PORT ") {
                h.port = p.parse().ok();
            } else if let Some(s) = line.strip_prefix("STATE ") {
                h.state = s.to_string();
            } else if std::env::var_os("BENCH_LOG").is_some() {
                eprintln!("  operator: {line}");
            }
        }
    });
    (child, heard)
}

async fn measure(n: usize, trim: bool) -> Row {
    let f = fleet(n).await;
    let (mut child, heard) = spawn_child(&f.served.url, trim);
    let port = loop {
        if let Some(p) = heard.lock().unwrap().port {
            break p;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let ready_at = wait_ready(&http, &base).await;
    let listed = f
        .served
        .first_lists()
        .into_iter()
        .filter(|(p, _)| LISTS.iter().any(|l| p.ends_with(l)))
        .map(|(_, at)| at)
        .max();
    let ready_after = listed.map(|l| ready_at.saturating_duration_since(l));
    wait_reconciled(&f, &http, &base).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (rss_kib, peak_kib) = memory(child.id());
    let row = Row {
        n,
        trim,
        rss_kib,
        peak_kib,
        cpu: cpu_time(child.id()),
        ready_after,
        final_cloud_calls: f.h.sim.calls().len(),
        final_status_writes: final_status_writes(&f),
        state: heard.lock().unwrap().state.clone(),
    };
    let _ = child.kill();
    let _ = child.wait();
    row
}

/// Polls `/readyz` every 5 ms; returns when it first answered 200.
async fn wait_ready(http: &reqwest::Client, base: &str) -> Instant {
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let ok = http
            .get(format!("{base}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        if ok {
            return Instant::now();
        }
        assert!(Instant::now() < deadline, "the operator never became ready");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Waits until every resource was reconciled once and the new ones succeeded.
async fn wait_reconciled(f: &Fleet, http: &reqwest::Client, base: &str) {
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let done = f
            .fresh_paths
            .iter()
            .all(|p| f.h.status(p).phase == Some(Phase::Succeeded));
        if done && reconciles(http, base).await >= f.total as u64 {
            return;
        }
        assert!(Instant::now() < deadline, "not everything was reconciled");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The sum of the child's `reconcile_total` counters.
async fn reconciles(http: &reqwest::Client, base: &str) -> u64 {
    let Ok(reply) = http.get(format!("{base}/metrics")).send().await else {
        return 0;
    };
    let text = reply.text().await.unwrap_or_default();
    text.lines()
        .filter(|l| l.starts_with("hwcloud_backup_reconcile_total{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>() as u64
}

/// Status writes the API server received for finished (not `fresh-`) resources.
fn final_status_writes(f: &Fleet) -> usize {
    f.h.api
        .calls()
        .iter()
        .filter(|c| c.method == http::Method::PATCH && c.path.ends_with("/status"))
        .filter(|c| !c.path.contains("/fresh-"))
        .count()
}

/// `VmRSS` and `VmHWM` of process `pid`, in KiB.
fn memory(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// User plus system CPU time of process `pid` (`/proc/<pid>/stat`, in clock ticks of 1/100 s).
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The command name may hold spaces; the fields after its closing parenthesis do not.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or(vec![], |(_, rest)| rest.split_whitespace().collect());
    // utime and stime: fields 14 and 15 of the line, 11 and 12 counted from the state field (0).
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i)?.parse::<u64>().ok())
        .sum();
    Duration::from_millis(ticks * 10)
}
