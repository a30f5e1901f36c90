//! README.md states facts about the code; these tests keep the ones that drift easily true: the example
//! manifests, the alert rules the chart ships, the flag table, the condition reasons, the metric names and the
//! CI test command.

use std::time::Duration;

use clap::CommandFactory;
use hwcloud_backup_operator::config::Cli;
use hwcloud_backup_operator::controller::dcs_restore::BACKUP_UNUSABLE;
use hwcloud_backup_operator::controller::decide::reason;
use hwcloud_backup_operator::metrics::Metrics;

fn read(path: &str) -> String {
    let path = format!("{}/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn readme() -> String {
    read("README.md")
}

/// The README line that starts with `prefix`.
fn row<'a>(readme: &'a str, prefix: &str) -> &'a str {
    readme
        .lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("README.md has no line starting with {prefix:?}"))
}

#[test]
fn example_manifests_are_the_files_in_examples() {
    let readme = readme();
    for file in [
        "dcsbackup.yaml",
        "dcsrestore.yaml",
        "ddsbackup.yaml",
        "taurusdbbackup.yaml",
        "ddsrestore.yaml",
        "taurusdbrestore.yaml",
        "backupschedule.yaml",
    ] {
        let body = read(&format!("examples/{file}"));
        assert!(
            readme.contains(&format!("`examples/{file}`:\n\n```yaml\n{body}```")),
            "README.md must show examples/{file} verbatim"
        );
    }
}

/// The fenced YAML blocks of the README.
fn yaml_blocks(readme: &str) -> Vec<&str> {
    readme
        .split("```yaml\n")
        .skip(1)
        .filter_map(|rest| rest.split_once("```").map(|(block, _)| block))
        .collect()
}

#[test]
fn the_alert_rules_shown_are_the_charts_alert_file() {
    // The chart's PrometheusRule renders this file (.ci/run checks the rendering), so the README shows exactly
    // what `prometheusRule.enabled` installs; any alert example elsewhere in the README would be a second source.
    let path = "deploy/helm/hwcloud-backup-operator/files/alerts.yaml";
    let rules = read(path);
    let readme = readme();
    assert!(
        readme.contains(&format!("`{path}`")),
        "README.md must name {path}"
    );
    let shown: Vec<&str> = yaml_blocks(&readme)
        .into_iter()
        .filter(|b| b.contains("alert:") || b.contains("PrometheusRule"))
        .collect();
    assert!(!shown.is_empty(), "README.md shows no alert rules");
    for block in shown {
        assert!(
            block == rules,
            "README.md shows alert rules that differ from {path}; copy the file into the README:\n{}",
            first_difference(block, &rules)
        );
    }
}

/// The first line where `a` and `b` differ, for a readable failure.
fn first_difference(a: &str, b: &str) -> String {
    let mut lines = a.lines().zip(b.lines()).enumerate();
    match lines.find(|(_, (x, y))| x != y) {
        Some((i, (x, y))) => format!("line {}:\n  README: {x}\n  file:   {y}", i + 1),
        None => format!("{} lines against {}", a.lines().count(), b.lines().count()),
    }
}

#[test]
fn every_run_flag_is_in_the_flag_table_with_its_env_var() {
    let readme = readme();
    let cmd = Cli::command();
    let run = cmd.find_subcommand("run").expect("a run subcommand");
    let mut seen = 0;
    for arg in run.get_arguments() {
        let Some(long) = arg.get_long() else {
            continue;
        };
        if long == "help" {
            continue;
        }
        // `--leader-election[=true|false]` documents its optional value inside the backticks.
        let line = readme
            .lines()
            .find(|l| {
                l.strip_prefix(&format!("| `--{long}"))
                    .is_some_and(|rest| rest.starts_with('`') || rest.starts_with('['))
            })
            .unwrap_or_else(|| panic!("no row for --{long} in the flag table"));
        let env = arg
            .get_env()
            .unwrap_or_else(|| panic!("--{long} has no env var"));
        let env = env.to_string_lossy();
        assert!(line.contains(&format!("| `{env}` |")), "{line}");
        seen += 1;
    }
    assert!(seen >= 17, "only {seen} flags");
}

#[test]
fn every_condition_reason_is_explained() {
    let readme = readme();
    for r in [
        reason::CREATING,
        reason::IN_PROGRESS,
        reason::SUCCEEDED,
        reason::CLOUD_ERROR,
        reason::THROTTLED,
        reason::INSTANCE_BUSY,
        reason::TIMEOUT,
        reason::INVALID_SPEC,
        reason::CREDENTIALS_ERROR,
        reason::WAITING_FOR_BACKUP,
        BACKUP_UNUSABLE,
        reason::INVALID_RESTORE_TIME,
        reason::OUTCOME_UNKNOWN,
    ] {
        row(&readme, &format!("| `{r}` |"));
    }
    // Adopted is an event, never a condition reason.
    row(&readme, &format!("| `{}` |", reason::ADOPTED));
}

#[test]
fn every_schedule_reason_and_event_is_explained() {
    use hwcloud_backup_operator::controller::backup_schedule::status::{event, reason};
    let readme = readme();
    for r in [
        reason::SCHEDULED,
        reason::SUSPENDED,
        reason::INVALID_SPEC,
        reason::DCS_BACKUP_CAP,
        event::BACKUP_SCHEDULED,
        event::RUN_SKIPPED,
        event::MISSED_RUNS_SKIPPED,
        event::RETENTION_DELETED,
        event::NAME_TAKEN,
        event::INVALID_SPEC,
    ] {
        row(&readme, &format!("| `{r}` |"));
    }
}

#[test]
fn every_metric_is_documented() {
    let m = Metrics::new();
    // Touch every family so each is encoded.
    drop(m.reconcile_timer("dcsbackup"));
    m.reconcile_error("dcsbackup", "Conflict");
    m.observe_cloud_call("dcs", "list_backups", "ok", Duration::from_millis(5));
    m.set_phase_counts("dcsbackup", &[("Pending", 1)]);
    m.backup_succeeded("dcsbackup", 1);
    m.set_leader(true);
    m.set_schedule(
        "team-a",
        "nightly",
        &hwcloud_backup_operator::metrics::ScheduleFigures {
            next_run: Some(2),
            last_run: Some(1),
            last_success: Some(1),
            kept_succeeded: 1,
            kept_failed: 0,
        },
    );
    let readme = readme();
    let mut names = Vec::new();
    for line in m.encode().lines() {
        let Some(rest) = line.strip_prefix("# TYPE ") else {
            continue;
        };
        let mut words = rest.split_whitespace();
        let (Some(name), Some(kind)) = (words.next(), words.next()) else {
            panic!("odd TYPE line {line:?}");
        };
        let name = match kind {
            "counter" => format!("{name}_total"),
            _ => name.to_string(),
        };
        row(&readme, &format!("| `{name}` |"));
        names.push(name);
    }
    assert_eq!(names.len(), 12, "{names:?}");
}

#[test]
fn the_restore_kinds_warn_in_bold_that_they_overwrite_the_instance() {
    let readme = readme();
    for kind in ["DdsRestore", "TaurusDbRestore"] {
        let section = readme
            .split(&format!("### {kind}\n"))
            .nth(1)
            .unwrap_or_else(|| panic!("README.md has no section ### {kind}"));
        let section = section.split("\n### ").next().unwrap_or_default();
        assert!(
            section.contains("**An in-place restore overwrites the instance"),
            "### {kind} must say in bold that it overwrites the instance"
        );
    }
}

#[test]
fn the_test_command_is_the_one_ci_runs() {
    let ci = read(".ci/run");
    let cmd = ci
        .lines()
        .find_map(|l| l.strip_prefix("TEST_CMD=\""))
        .and_then(|l| l.strip_suffix('"'))
        .expect("TEST_CMD in .ci/run");
    assert!(readme().contains(&format!("```sh\n{cmd}\n```")), "{cmd}");
}
