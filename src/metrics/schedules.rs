//! The per-schedule families (`schedule_*`): they carry a `BackupSchedule`'s namespace and name, the one
//! place where metric labels name objects (see the parent module).

use std::collections::HashSet;
use std::sync::{Mutex, MutexGuard};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::{family::Family, gauge::Gauge};
use prometheus_client::registry::Unit;

use super::series::NamingRegistry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ScheduleLabels {
    namespace: String,
    schedule: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KeptLabels {
    namespace: String,
    schedule: String,
    phase: &'static str,
}

/// A schedule's figures as its last reconcile saw them (Unix seconds).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScheduleFigures {
    pub next_run: Option<i64>,
    pub last_run: Option<i64>,
    pub last_success: Option<i64>,
    pub kept_succeeded: i64,
    pub kept_failed: i64,
}

/// The per-schedule families.
#[derive(Debug, Default)]
pub(super) struct ScheduleMetrics {
    next_run: Family<ScheduleLabels, Gauge>,
    last_run: Family<ScheduleLabels, Gauge>,
    last_success: Family<ScheduleLabels, Gauge>,
    kept: Family<KeptLabels, Gauge>,
    /// (namespace, name) of every schedule with series, so deleted ones can be removed.
    known: Mutex<HashSet<(String, String)>>,
}

impl ScheduleMetrics {
    pub(super) fn register(&self, registry: &mut NamingRegistry) {
        registry.register_with_unit(
            "schedule_next_run_timestamp",
            "Unix time of a BackupSchedule's next run (absent while suspended or invalid)",
            Unit::Seconds,
            self.next_run.clone(),
        );
        registry.register_with_unit(
            "schedule_last_run_timestamp",
            "Unix time of the run time of a BackupSchedule's latest backup",
            Unit::Seconds,
            self.last_run.clone(),
        );
        registry.register_with_unit(
            "schedule_last_success_timestamp",
            "Unix time at which a BackupSchedule's newest successful backup completed",
            Unit::Seconds,
            self.last_success.clone(),
        );
        registry.register(
            "schedule_kept_backups",
            "Backups a BackupSchedule keeps, by phase (Succeeded, Failed)",
            self.kept.clone(),
        );
    }

    pub(super) fn set(&self, namespace: &str, schedule: &str, f: &ScheduleFigures) {
        let labels = ScheduleLabels {
            namespace: namespace.into(),
            schedule: schedule.into(),
        };
        for (family, value) in [
            (&self.next_run, f.next_run),
            (&self.last_run, f.last_run),
            (&self.last_success, f.last_success),
        ] {
            match value {
                Some(v) => {
                    family.get_or_create(&labels).set(v);
                }
                None => {
                    family.remove(&labels);
                }
            }
        }
        for (phase, n) in [("Succeeded", f.kept_succeeded), ("Failed", f.kept_failed)] {
            self.kept.get_or_create(&kept(&labels, phase)).set(n);
        }
        self.known_set().insert((labels.namespace, labels.schedule));
    }

    pub(super) fn forget(&self, namespace: &str, schedule: &str) {
        let labels = ScheduleLabels {
            namespace: namespace.into(),
            schedule: schedule.into(),
        };
        self.next_run.remove(&labels);
        self.last_run.remove(&labels);
        self.last_success.remove(&labels);
        for phase in ["Succeeded", "Failed"] {
            self.kept.remove(&kept(&labels, phase));
        }
        self.known_set()
            .remove(&(labels.namespace, labels.schedule));
    }

    pub(super) fn clear(&self) {
        self.next_run.clear();
        self.last_run.clear();
        self.last_success.clear();
        self.kept.clear();
        self.known_set().clear();
    }

    pub(super) fn known_set(&self) -> MutexGuard<'_, HashSet<(String, String)>> {
        self.known.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn kept(labels: &ScheduleLabels, phase: &'static str) -> KeptLabels {
    KeptLabels {
        namespace: labels.namespace.clone(),
        schedule: labels.schedule.clone(),
        phase,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use crate::metrics::{Metrics, ScheduleFigures};

    fn line_value(text: &str, prefix: &str) -> f64 {
        let line = text
            .lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no line {prefix}\n{text}"));
        line.rsplit(' ').next().unwrap().parse().unwrap()
    }

    #[test]
    fn schedule_series_follow_the_schedules() {
        let m = Metrics::new();
        let figures = ScheduleFigures {
            next_run: Some(200),
            last_run: Some(100),
            last_success: Some(150),
            kept_succeeded: 7,
            kept_failed: 1,
        };
        m.set_schedule("a", "nightly", &figures);
        m.set_schedule("b", "hourly", &figures);
        let text = m.encode();
        let next = r#"hwcloud_backup_schedule_next_run_timestamp_seconds{namespace="a",schedule="nightly"}"#;
        assert_eq!(line_value(&text, next), 200.0);
        assert_eq!(
            line_value(
                &text,
                r#"hwcloud_backup_schedule_kept_backups{namespace="a",schedule="nightly",phase="Succeeded"}"#
            ),
            7.0
        );
        // Suspended: no next run, so no series an alert could compare against.
        m.set_schedule(
            "a",
            "nightly",
            &ScheduleFigures {
                next_run: None,
                ..figures.clone()
            },
        );
        assert!(!m.encode().contains(next));
        // A deleted schedule's series go; the others stay.
        m.retain_schedules(&HashSet::from([("b".to_string(), "hourly".to_string())]));
        let text = m.encode();
        assert!(!text.contains(r#"schedule="nightly""#), "{text}");
        assert!(text.contains(r#"schedule="hourly""#));
        m.forget_schedule("b", "hourly");
        assert!(!m.encode().contains("schedule=\""));
        // A replica that steps down stops reporting schedules (only the leader knows them).
        m.set_schedule("a", "nightly", &figures);
        m.clear_leader_gauges();
        assert!(!m.encode().contains("schedule=\""));
        m.retain_schedules(&HashSet::new());
    }
}
