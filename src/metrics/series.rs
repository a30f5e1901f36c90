//! The series names `/metrics` can carry, noted as each metric is registered.
//!
//! The registry leaves a family out of the encoded text until it has a sample, so a scrape of a fresh process
//! cannot list every metric; the chart's alerts and dashboard are checked against this list instead
//! (tests/monitoring.rs). It mirrors prometheus-client's OpenMetrics naming, which the test below pins.
use std::borrow::Cow;

use prometheus_client::{
    metrics::MetricType,
    registry::{Metric, Registry, Unit},
};

/// A [`Registry`] that also notes the series names of what it registers. Its methods have the registry's
/// signatures, so registering a metric through it reads the same.
pub(super) struct NamingRegistry {
    registry: Registry,
    prefix: &'static str,
    series: Vec<String>,
}

impl NamingRegistry {
    /// Every series gets `labels` (constant labels leave the series names alone).
    pub(super) fn with_prefix_and_labels(
        prefix: &'static str,
        labels: Vec<(Cow<'static, str>, Cow<'static, str>)>,
    ) -> Self {
        Self {
            registry: Registry::with_prefix_and_labels(prefix, labels.into_iter()),
            prefix,
            series: Vec::new(),
        }
    }

    pub(super) fn register(
        &mut self,
        name: impl Into<String>,
        help: impl Into<String>,
        metric: impl Metric,
    ) {
        let name = name.into();
        self.note(&name, None, metric.metric_type());
        self.registry.register(name, help, metric);
    }

    pub(super) fn register_with_unit(
        &mut self,
        name: impl Into<String>,
        help: impl Into<String>,
        unit: Unit,
        metric: impl Metric,
    ) {
        let name = name.into();
        self.note(&name, Some(&unit), metric.metric_type());
        self.registry.register_with_unit(name, help, unit, metric);
    }

    /// The registry, and the series names of everything registered in it, in registration order.
    pub(super) fn finish(self) -> (Registry, Vec<String>) {
        (self.registry, self.series)
    }

    fn note(&mut self, name: &str, unit: Option<&Unit>, kind: MetricType) {
        let mut base = format!("{}_{name}", self.prefix);
        if let Some(unit) = unit {
            base = format!("{base}_{}", unit.as_str());
        }
        let suffixes: &[&str] = match kind {
            MetricType::Counter => &["_total"],
            MetricType::Histogram => &["_sum", "_count", "_bucket"],
            MetricType::Info => &["_info"],
            MetricType::Gauge | MetricType::Unknown => &[""],
        };
        self.series
            .extend(suffixes.iter().map(|suffix| format!("{base}{suffix}")));
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use prometheus_client::{
        encoding::text::encode,
        metrics::{counter::Counter, gauge::Gauge, histogram::Histogram, info::Info},
    };

    use super::*;

    #[test]
    fn noted_names_are_the_encoded_sample_names() {
        let mut r = NamingRegistry::with_prefix_and_labels("p", Vec::new());
        let counter = Counter::<u64>::default();
        let gauge = Gauge::<i64>::default();
        let histogram = Histogram::new([1.0]);
        counter.inc();
        gauge.set(1);
        histogram.observe(0.5);
        r.register("calls", "c", counter.clone());
        r.register_with_unit("wait", "c", Unit::Seconds, counter);
        r.register("level", "g", gauge.clone());
        r.register_with_unit("size", "g", Unit::Bytes, gauge);
        r.register_with_unit("latency", "h", Unit::Seconds, histogram);
        r.register("build", "i", Info::new(vec![("version", "1")]));
        let (registry, series) = r.finish();

        let mut text = String::new();
        encode(&mut text, &registry).unwrap();
        let encoded: BTreeSet<&str> = text
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split(['{', ' ']).next())
            .collect();
        let noted: BTreeSet<&str> = series.iter().map(String::as_str).collect();
        assert_eq!(noted, encoded, "encoded:\n{text}");
        assert_eq!(series.len(), 8, "{series:?}");
    }
}
