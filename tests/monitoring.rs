//! The chart ships the alerts and the dashboard README.md shows; these tests hold the chart's files to the code.
//! `files/alerts.yaml` (the one source of the alert rules: the README shows it verbatim, see tests/readme.rs)
//! and `files/dashboard.json` must parse, every PromQL expression in them must parse, and every series they
//! query must be one that `/metrics` exposes, as the code's registry lists them (not a hand-kept list).
//! How the chart renders both (and only when enabled) is checked by .ci/run with helm. The schedule
//! alerts are also evaluated over the registry's own series (`monitoring/schedule_alerts.rs`).

use std::collections::{BTreeMap, BTreeSet};

use hwcloud_backup_operator::metrics::Metrics;
use promql_parser::{
    parser::{self, Expr},
    util::{ExprVisitor, walk_expr},
};
use serde::Deserialize;
use serde_json::Value;

#[path = "monitoring/promql_eval.rs"]
mod promql_eval;
#[path = "monitoring/schedule_alerts.rs"]
mod schedule_alerts;

const CHART: &str = "deploy/helm/hwcloud-backup-operator";

fn read(path: &str) -> String {
    let path = format!("{}/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The series names a scrape of the operator can carry, from the code's registry (families without samples too).
fn exposed_series() -> BTreeSet<String> {
    Metrics::new().series_names().iter().cloned().collect()
}

/// Collects the metric name of every selector; a selector without one is an error.
struct SelectorNames(Vec<String>);

impl ExprVisitor for SelectorNames {
    type Error = String;

    fn pre_visit(&mut self, expr: &Expr) -> Result<bool, String> {
        let selector = match expr {
            Expr::VectorSelector(vs) => vs,
            Expr::MatrixSelector(ms) => &ms.vs,
            _ => return Ok(true),
        };
        let by_matcher = selector
            .matchers
            .matchers
            .iter()
            .find(|m| m.name == "__name__")
            .map(|m| m.value.clone());
        let name = selector.name.clone().or(by_matcher);
        self.0
            .push(name.ok_or_else(|| format!("a selector without a metric name: {selector}"))?);
        Ok(true)
    }
}

/// Parses `expr` as PromQL and returns the metric names it selects.
fn metric_names(expr: &str) -> Result<Vec<String>, String> {
    let ast = parser::parse(expr)?;
    let mut names = SelectorNames(Vec::new());
    walk_expr(&mut names, &ast)?;
    Ok(names.0)
}

/// Panics unless `expr` parses and selects at least one series, all of them exposed.
fn assert_queries_exposed_series(what: &str, expr: &str, exposed: &BTreeSet<String>) {
    let names =
        metric_names(expr).unwrap_or_else(|e| panic!("{what}: {expr:?} is not PromQL: {e}"));
    assert!(!names.is_empty(), "{what}: {expr:?} selects no metric");
    for name in names {
        assert!(
            exposed.contains(&name),
            "{what}: {name} is not a series of /metrics (exposed: {exposed:?})"
        );
    }
}

#[test]
fn exposed_series_are_the_registrys_with_their_suffixes() {
    let exposed = exposed_series();
    for name in [
        "hwcloud_backup_reconcile_total",
        "hwcloud_backup_cloud_request_duration_seconds_bucket",
        "hwcloud_backup_cloud_request_duration_seconds_sum",
        "hwcloud_backup_cloud_request_duration_seconds_count",
        "hwcloud_backup_leader",
    ] {
        assert!(exposed.contains(name), "{name} missing from {exposed:?}");
    }
    assert!(!exposed.contains("hwcloud_backup_reconcile_duration_seconds"));
    // A misspelt series is refused, so the checks below can fail.
    let err = std::panic::catch_unwind(|| {
        assert_queries_exposed_series(
            "probe",
            "rate(hwcloud_backup_reconciles_total[5m])",
            &exposed,
        )
    });
    assert!(err.is_err(), "a series the code does not expose passed");
}

/// A Prometheus rule file, with the fields promtool allows; an unknown field fails like it does there.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    groups: Vec<RuleGroup>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleGroup {
    name: String,
    rules: Vec<AlertRule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AlertRule {
    alert: String,
    expr: String,
    #[serde(rename = "for")]
    for_: Option<String>,
    labels: BTreeMap<String, String>,
    annotations: BTreeMap<String, String>,
}

#[test]
fn alert_rules_parse_and_query_only_exposed_series() {
    let exposed = exposed_series();
    let file: RuleFile = serde_saphyr::from_str(&read(&format!("{CHART}/files/alerts.yaml")))
        .unwrap_or_else(|e| panic!("files/alerts.yaml: {e}"));
    let mut alerts = BTreeSet::new();
    for group in &file.groups {
        assert!(!group.rules.is_empty(), "group {} has no rules", group.name);
        for rule in &group.rules {
            let what = format!("alert {}", rule.alert);
            assert!(alerts.insert(rule.alert.clone()), "{what} twice");
            assert_queries_exposed_series(&what, &rule.expr, &exposed);
            if let Some(d) = &rule.for_ {
                promql_parser::util::parse_duration(d)
                    .unwrap_or_else(|e| panic!("{what}: for {d:?}: {e}"));
            }
            // The chart's prometheusRule.alerts.<name>.severity overrides this label; routing needs it.
            let severity = rule.labels.get("severity").map(String::as_str);
            assert!(
                matches!(severity, Some("warning" | "critical")),
                "{what}: severity {severity:?}"
            );
            assert!(
                rule.annotations.contains_key("summary"),
                "{what}: no summary"
            );
        }
    }
    assert!(alerts.len() >= 6, "{alerts:?}");
}

/// The panels README.md promises, by title.
const PANELS: [&str; 6] = [
    "Resources by phase",
    "Cloud calls by outcome",
    "Cloud call latency",
    "Reconcile errors",
    "Last success per kind",
    "Leader",
];

fn dashboard() -> Value {
    serde_json::from_str(&read(&format!("{CHART}/files/dashboard.json")))
        .unwrap_or_else(|e| panic!("files/dashboard.json: {e}"))
}

fn panels(dashboard: &Value) -> &Vec<Value> {
    dashboard["panels"].as_array().expect("a panels array")
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no string at {pointer} in {v}"))
}

#[test]
fn dashboard_has_the_promised_panels_on_a_datasource_variable() {
    let dashboard = dashboard();
    assert_eq!(str_at(&dashboard, "/uid"), "hwcloud-backup-operator");
    let variables = dashboard["templating"]["list"]
        .as_array()
        .expect("templating.list");
    let datasource = variables
        .iter()
        .find(|v| v["type"] == "datasource")
        .expect("a datasource template variable");
    assert_eq!(datasource["query"], "prometheus");
    let uid = format!("${{{}}}", str_at(datasource, "/name"));

    let mut ids = BTreeSet::new();
    for panel in panels(&dashboard) {
        let title = str_at(panel, "/title");
        assert!(ids.insert(panel["id"].as_u64()), "{title}: id reused");
        assert!(
            panel["gridPos"]["w"].as_u64().is_some(),
            "{title}: no gridPos"
        );
        assert_eq!(str_at(panel, "/datasource/uid"), uid, "{title}");
        let targets = panel["targets"].as_array().expect("targets");
        assert!(!targets.is_empty(), "{title}: no queries");
        for target in targets {
            assert_eq!(str_at(target, "/datasource/uid"), uid, "{title}");
        }
    }
    for title in PANELS {
        assert!(
            panels(&dashboard).iter().any(|p| p["title"] == title),
            "no panel {title:?}"
        );
    }
}

/// Grafana's interval variables stand where PromQL wants a duration; the others sit inside label matchers.
fn as_promql(query: &str) -> String {
    ["$__rate_interval", "$__interval", "$__range"]
        .iter()
        .fold(query.to_string(), |q, var| q.replace(var, "5m"))
}

#[test]
fn dashboard_queries_parse_and_query_only_exposed_series() {
    let exposed = exposed_series();
    let dashboard = dashboard();
    let mut queries = 0;
    for panel in panels(&dashboard) {
        let title = str_at(panel, "/title");
        for target in panel["targets"].as_array().into_iter().flatten() {
            let what = format!("panel {title:?} query {}", str_at(target, "/refId"));
            assert_queries_exposed_series(&what, &as_promql(str_at(target, "/expr")), &exposed);
            queries += 1;
        }
    }
    // Query variables use Grafana's label_values(<selector>, <label>).
    for variable in dashboard["templating"]["list"]
        .as_array()
        .into_iter()
        .flatten()
    {
        if variable["type"] != "query" {
            continue;
        }
        let query = str_at(variable, "/query/query");
        let selector = query
            .strip_prefix("label_values(")
            .and_then(|q| q.rsplit_once(','))
            .map(|(selector, _label)| selector)
            .unwrap_or_else(|| {
                panic!("variable query {query:?} is not label_values(selector, label)")
            });
        assert_queries_exposed_series(&format!("variable {query:?}"), selector, &exposed);
        queries += 1;
    }
    assert!(queries >= PANELS.len(), "only {queries} queries");
}

/// The labels each aggregation over `metric` keeps (`by (...)`); empty for one without `by`.
struct Groupings {
    metric: &'static str,
    found: Vec<Vec<String>>,
}

impl ExprVisitor for Groupings {
    type Error = String;

    fn pre_visit(&mut self, expr: &Expr) -> Result<bool, String> {
        if let Expr::Aggregate(a) = expr {
            let mut names = SelectorNames(Vec::new());
            walk_expr(&mut names, &a.expr)?;
            if names.0.iter().any(|n| n == self.metric) {
                let kept = match &a.modifier {
                    Some(promql_parser::parser::LabelModifier::Include(l)) => l.labels.clone(),
                    _ => Vec::new(),
                };
                self.found.push(kept);
            }
        }
        Ok(true)
    }
}

#[test]
fn the_no_leader_alert_asks_every_shard_for_a_leader() {
    let file: RuleFile =
        serde_saphyr::from_str(&read(&format!("{CHART}/files/alerts.yaml"))).unwrap();
    let rule = file
        .groups
        .iter()
        .flat_map(|g| &g.rules)
        .find(|r| r.alert == "HwcloudBackupNoLeader")
        .expect("the alert");
    let mut groupings = Groupings {
        metric: "hwcloud_backup_leader",
        found: Vec::new(),
    };
    walk_expr(&mut groupings, &parser::parse(&rule.expr).unwrap()).unwrap();
    assert!(!groupings.found.is_empty(), "{}", rule.expr);
    // A sharded replica labels its series with its selector; one max over every shard would show
    // one shard's leader and hide another shard that has none.
    let shard = hwcloud_backup_operator::metrics::SHARD_LABEL.to_string();
    for kept in &groupings.found {
        assert!(
            kept.contains(&shard),
            "an aggregation of hwcloud_backup_leader without `by ({shard})`: {}",
            rule.expr
        );
    }
    // No replica at all (none scraped) still alerts.
    assert!(
        rule.expr.contains("absent(hwcloud_backup_leader)"),
        "{}",
        rule.expr
    );
}

/// The kinds a selector of `metric` in an expression lets through, of `kinds`.
struct KindsSelected<'a> {
    metric: &'static str,
    kinds: &'a [&'static str],
    selected: Vec<BTreeSet<&'static str>>,
}

impl ExprVisitor for KindsSelected<'_> {
    type Error = String;

    fn pre_visit(&mut self, expr: &Expr) -> Result<bool, String> {
        if let Expr::VectorSelector(v) = expr
            && v.name.as_deref() == Some(self.metric)
        {
            let lets_through = |kind: &str| {
                v.matchers
                    .matchers
                    .iter()
                    .filter(|m| m.name == "kind")
                    .all(|m| m.is_match(kind))
            };
            self.selected.push(
                self.kinds
                    .iter()
                    .copied()
                    .filter(|k| lets_through(k))
                    .collect(),
            );
        }
        Ok(true)
    }
}

#[test]
fn the_missing_backup_alert_leaves_the_restore_kinds_out() {
    // A restore is rare by nature: "no successful restore for 26 h" is no alarm, and an alert
    // that fired on it would never clear.
    let file: RuleFile =
        serde_saphyr::from_str(&read(&format!("{CHART}/files/alerts.yaml"))).unwrap();
    let rule = file
        .groups
        .iter()
        .flat_map(|g| &g.rules)
        .find(|r| r.alert == "HwcloudBackupMissing")
        .expect("the alert");
    let kinds = [
        "dcsbackup",
        "ddsbackup",
        "taurusdbbackup",
        "dcsrestore",
        "ddsrestore",
        "taurusdbrestore",
    ];
    let mut v = KindsSelected {
        metric: "hwcloud_backup_last_success_timestamp_seconds",
        kinds: &kinds,
        selected: Vec::new(),
    };
    walk_expr(&mut v, &parser::parse(&rule.expr).unwrap()).unwrap();
    assert!(!v.selected.is_empty(), "{}", rule.expr);
    for selected in v.selected {
        assert_eq!(
            selected,
            BTreeSet::from(["dcsbackup", "ddsbackup", "taurusdbbackup"]),
            "{}",
            rule.expr
        );
    }
}
