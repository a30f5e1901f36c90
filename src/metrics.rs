//! Prometheus metrics (prefix `hwcloud_backup`), served as OpenMetrics text on `/metrics`.
//!
//! Every label value is a `&'static str` chosen by code (controller, kind, phase, reason, cloud service and
//! operation, outcome), never an object name, instance id or message: that keeps cardinality bounded and makes
//! it impossible to leak user data or secrets into a label. The one exception is the per-schedule families
//! (`schedule_*`): they carry a `BackupSchedule`'s namespace and name, because an alert must say which
//! schedule stopped succeeding. Schedules are few (one per database, not one per backup), and a deleted
//! schedule's series are removed.
mod schedules;

use std::{
    borrow::Cow,
    collections::HashSet,
    sync::atomic::Ordering,
    time::{Duration, Instant},
};

pub use schedules::ScheduleFigures;
use schedules::ScheduleMetrics;

use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{
        counter::Counter,
        family::Family,
        gauge::Gauge,
        histogram::{Histogram, exponential_buckets},
    },
    registry::{Registry, Unit},
};

mod series;
use series::NamingRegistry;

/// Prefix of every metric name.
pub const PREFIX: &str = "hwcloud_backup";
/// The label every series of a sharded replica carries: its `--watch-label-selector`.
pub const SHARD_LABEL: &str = "shard";
/// Content type of [`Metrics::encode`]'s output.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ControllerLabels {
    controller: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ErrorLabels {
    controller: &'static str,
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    service: &'static str,
    operation: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabels {
    service: &'static str,
    operation: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PhaseLabels {
    kind: &'static str,
    phase: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: &'static str,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

fn reconcile_buckets() -> Histogram {
    // 5 ms .. ~10 s: a reconcile is a few API calls; slower ones point at a slow cloud or API server.
    Histogram::new(exponential_buckets(0.005, 2.0, 12))
}

fn cloud_buckets() -> Histogram {
    // 10 ms .. ~41 s: covers the default 30 s request timeout.
    Histogram::new(exponential_buckets(0.01, 2.0, 13))
}

/// All metrics of the operator and the registry that encodes them. Share it as `Arc<Metrics>`.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    reconciles: Family<ControllerLabels, Counter>,
    reconcile_errors: Family<ErrorLabels, Counter>,
    reconcile_duration: HistogramFamily<ControllerLabels>,
    cloud_requests: Family<CallLabels, Counter>,
    cloud_duration: HistogramFamily<OperationLabels>,
    resources: Family<PhaseLabels, Gauge>,
    last_success: Family<KindLabels, Gauge>,
    leader: Gauge,
    schedules: ScheduleMetrics,
    /// Every series name a scrape can carry (see [`Metrics::series_names`]).
    series: Vec<String>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// The metrics of a replica that watches every resource.
    pub fn new() -> Self {
        Self::for_shard(None)
    }

    /// The metrics of a replica; with `--watch-label-selector` every series carries the label
    /// `shard` with the selector, so that each shard's leader, counts and calls can be told apart
    /// (and an alert can ask for a leader in every shard).
    pub fn for_shard(selector: Option<&str>) -> Self {
        let labels = selector
            .map(|s| (Cow::Borrowed(SHARD_LABEL), Cow::Owned(s.to_string())))
            .into_iter()
            .collect();
        let mut registry = NamingRegistry::with_prefix_and_labels(PREFIX, labels);
        let reconciles = Family::<ControllerLabels, Counter>::default();
        let reconcile_errors = Family::<ErrorLabels, Counter>::default();
        let reconcile_duration =
            HistogramFamily::<ControllerLabels>::new_with_constructor(reconcile_buckets);
        let cloud_requests = Family::<CallLabels, Counter>::default();
        let cloud_duration =
            HistogramFamily::<OperationLabels>::new_with_constructor(cloud_buckets);
        let resources = Family::<PhaseLabels, Gauge>::default();
        let last_success = Family::<KindLabels, Gauge>::default();
        let leader = Gauge::default();

        // Counters get the `_total` suffix and unit-registered metrics the `_seconds` suffix from the registry.
        registry.register("reconcile", "Reconciliations started", reconciles.clone());
        registry.register(
            "reconcile_errors",
            "Reconciliations that ended in an error, by reason",
            reconcile_errors.clone(),
        );
        registry.register_with_unit(
            "reconcile_duration",
            "Duration of one reconciliation",
            Unit::Seconds,
            reconcile_duration.clone(),
        );
        registry.register(
            "cloud_requests",
            "Cloud API requests, by outcome",
            cloud_requests.clone(),
        );
        registry.register_with_unit(
            "cloud_request_duration",
            "Duration of one cloud API request, retries included",
            Unit::Seconds,
            cloud_duration.clone(),
        );
        registry.register(
            "resources",
            "Resources known to the operator, by kind and phase",
            resources.clone(),
        );
        registry.register_with_unit(
            "last_success_timestamp",
            "Unix time of the latest successful backup or restore, by kind",
            Unit::Seconds,
            last_success.clone(),
        );
        registry.register(
            "leader",
            "1 while this replica holds the leader lease",
            leader.clone(),
        );
        let schedules = ScheduleMetrics::default();
        schedules.register(&mut registry);

        let (registry, series) = registry.finish();
        Self {
            registry,
            series,
            reconciles,
            reconcile_errors,
            reconcile_duration,
            cloud_requests,
            cloud_duration,
            resources,
            last_success,
            leader,
            schedules,
        }
    }

    /// Every series name `/metrics` can carry (`_total` of counters, `_bucket`/`_sum`/`_count` of histograms),
    /// also those without a sample yet, which the encoded text leaves out.
    pub fn series_names(&self) -> &[String] {
        &self.series
    }

    /// Counts a reconciliation and returns a guard that records its duration when dropped.
    pub fn reconcile_timer(&self, controller: &'static str) -> ReconcileTimer {
        let labels = ControllerLabels { controller };
        self.reconciles.get_or_create(&labels).inc();
        ReconcileTimer {
            histogram: self.reconcile_duration.get_or_create_owned(&labels),
            start: Instant::now(),
        }
    }

    /// Counts a failed reconciliation; `reason` is the error's `reason()`.
    pub fn reconcile_error(&self, controller: &'static str, reason: &'static str) {
        self.reconcile_errors
            .get_or_create(&ErrorLabels { controller, reason })
            .inc();
    }

    /// Sets the number of resources of `kind` in each listed phase. Pass every phase (with 0 where there are
    /// none) so that a phase that emptied does not keep its last count.
    pub fn set_phase_counts(&self, kind: &'static str, counts: &[(&'static str, i64)]) {
        for &(phase, count) in counts {
            self.resources
                .get_or_create(&PhaseLabels { kind, phase })
                .set(count);
        }
    }

    /// Records that a resource of `kind` succeeded at `unix_secs`; the gauge only moves forward, so
    /// resources finishing out of order leave the newest time.
    pub fn backup_succeeded(&self, kind: &'static str, unix_secs: i64) {
        let gauge = self.last_success.get_or_create(&KindLabels { kind });
        gauge.inner().fetch_max(unix_secs, Ordering::Relaxed);
    }

    /// Forgets what only the leader reports (resources by phase, the newest success): a standby that
    /// kept exporting its last values would double the counts and keep alerts on stale data.
    pub fn clear_leader_gauges(&self) {
        self.resources.clear();
        self.last_success.clear();
        self.schedules.clear();
    }

    /// Sets a schedule's series; a time that is `None` (no next run while suspended) removes its series.
    pub fn set_schedule(&self, namespace: &str, schedule: &str, figures: &ScheduleFigures) {
        self.schedules.set(namespace, schedule, figures);
    }

    /// Removes a schedule's series (invalid spec, or deleted).
    pub fn forget_schedule(&self, namespace: &str, schedule: &str) {
        self.schedules.forget(namespace, schedule);
    }

    /// Removes the series of every schedule not in `present` (deleted schedules).
    pub fn retain_schedules(&self, present: &HashSet<(String, String)>) {
        let gone: Vec<(String, String)> = self
            .schedules
            .known_set()
            .iter()
            .filter(|k| !present.contains(*k))
            .cloned()
            .collect();
        for (ns, name) in gone {
            self.schedules.forget(&ns, &name);
        }
    }

    pub fn set_leader(&self, is_leader: bool) {
        self.leader.set(i64::from(is_leader));
    }

    /// Records one cloud API call (the body of the cloud layer's `CallObserver` impl).
    pub fn observe_cloud_call(
        &self,
        service: &'static str,
        operation: &'static str,
        outcome: &'static str,
        elapsed: Duration,
    ) {
        self.cloud_requests
            .get_or_create(&CallLabels {
                service,
                operation,
                outcome,
            })
            .inc();
        self.cloud_duration
            .get_or_create(&OperationLabels { service, operation })
            .observe(elapsed.as_secs_f64());
    }

    /// Encodes every metric in the OpenMetrics text format ([`CONTENT_TYPE`]).
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail; an error here would be a formatting bug in the crate.
        if let Err(e) = encode(&mut out, &self.registry) {
            tracing::error!(error = %e, "encoding metrics failed");
        }
        out
    }
}

/// Records the duration of a reconciliation when dropped, so that early returns and `?` are measured too.
#[must_use = "the duration is recorded when the timer is dropped"]
pub struct ReconcileTimer {
    histogram: Histogram,
    start: Instant,
}

impl Drop for ReconcileTimer {
    fn drop(&mut self) {
        self.histogram.observe(self.start.elapsed().as_secs_f64());
    }
}

impl crate::cloud::transport::CallObserver for Metrics {
    fn observe(
        &self,
        service: &'static str,
        operation: &'static str,
        outcome: &'static str,
        elapsed: Duration,
    ) {
        self.observe_cloud_call(service, operation, outcome, elapsed);
    }
}

#[cfg(test)]
mod tests;
