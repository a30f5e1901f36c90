//! The operator's log, captured in memory through the operator's own subscriber (as `run` sets it
//! up), for the tests that read what `kubectl logs` would show.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hwcloud_backup_operator::config::LogFormat;
use hwcloud_backup_operator::telemetry;
use serde_json::Value;
use tracing_subscriber::fmt::MakeWriter;

/// Log output captured in memory.
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

impl Captured {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }

    /// The JSON lines.
    pub fn lines(&self) -> Vec<Value> {
        self.text()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }
}

/// Keeps the capture installed for this thread while alive.
pub struct Capture {
    pub logs: Captured,
    _guard: tracing::subscriber::DefaultGuard,
    _second: tracing::Dispatch,
}

/// Captures JSON log lines at `level` from everything that runs on this thread (with the default
/// current-thread test runtime: every task of the test, the operator's included).
pub async fn start(level: &str) -> Capture {
    let logs = Captured::default();
    let subscriber = telemetry::subscriber(LogFormat::Json, level, logs.clone(), false).unwrap();
    // Other tests of this binary run on other threads without a subscriber. With a single scoped
    // dispatcher, tracing computes the interest of a callsite first hit on such a thread from that
    // thread's (absent) subscriber and caches "disabled" for every thread. A second registered
    // dispatcher makes it ask every registered one, ours included.
    let second = tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default());
    let guard = tracing::subscriber::set_default(subscriber);
    // Registrations that were in flight while ours was installed: recompute once they are done.
    tokio::time::sleep(Duration::from_millis(20)).await;
    tracing::callsite::rebuild_interest_cache();
    Capture {
        logs,
        _guard: guard,
        _second: second,
    }
}
