#!/usr/bin/env python3
"""Asserts that the rendered chart ships the alerts and dashboard of its files/, and only when enabled.

files/alerts.yaml is the one source of the alert rules (README.md shows it verbatim, tests/readme.rs checks that)
and files/dashboard.json the dashboard (tests/monitoring.rs checks both against the code's metrics). This checks
what helm makes of them.

usage: check-monitoring.py CHART MANIFESTS.yaml MODE [NAMESPACE]
  MODE absent:    neither a PrometheusRule nor a dashboard ConfigMap
  MODE defaults:  both, in NAMESPACE, the rules exactly those of files/alerts.yaml, the dashboard label
                  grafana_dashboard: "1" and the JSON of files/dashboard.json
  MODE overrides: both, rendered with .ci/monitoring-values.yaml; each of its values shows
"""
import json
import os
import sys

import yaml


def fail(msg):
    print(f"check-monitoring: {msg}", file=sys.stderr)
    sys.exit(1)


def objects(path, kind):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d and d.get("kind") == kind]


def dashboards(path):
    return [c for c in objects(path, "ConfigMap") if c["metadata"]["name"].endswith("-dashboard")]


def only(items, what):
    if len(items) != 1:
        fail(f"expected one {what}, found {len(items)}")
    return items[0]


def source(chart, name):
    with open(os.path.join(chart, "files", name)) as f:
        return json.load(f) if name.endswith(".json") else yaml.safe_load(f)


def dashboard_json(cm):
    data = cm.get("data") or {}
    if list(data) != ["hwcloud-backup-operator.json"]:
        fail(f"dashboard ConfigMap data keys {list(data)}")
    try:
        return json.loads(data["hwcloud-backup-operator.json"])
    except json.JSONDecodeError as e:
        fail(f"dashboard ConfigMap holds no JSON: {e}")


def check_absent(chart, path, _namespace):
    if objects(path, "PrometheusRule") or dashboards(path):
        fail(f"{path}: a PrometheusRule or dashboard ConfigMap although both are disabled")


def check_defaults(chart, path, namespace):
    rule = only(objects(path, "PrometheusRule"), "PrometheusRule")
    if rule["metadata"]["namespace"] != namespace:
        fail(f"PrometheusRule in {rule['metadata']['namespace']}, not {namespace}")
    if rule["spec"]["groups"] != source(chart, "alerts.yaml")["groups"]:
        fail("the PrometheusRule's groups differ from files/alerts.yaml:\n"
             + yaml.safe_dump(rule["spec"]["groups"], sort_keys=False))
    cm = only(dashboards(path), "dashboard ConfigMap")
    if cm["metadata"]["namespace"] != namespace:
        fail(f"dashboard ConfigMap in {cm['metadata']['namespace']}, not {namespace}")
    if cm["metadata"]["labels"].get("grafana_dashboard") != "1":
        fail(f"dashboard ConfigMap labels {cm['metadata']['labels']} lack grafana_dashboard: \"1\"")
    if dashboard_json(cm) != source(chart, "dashboard.json"):
        fail("the dashboard ConfigMap's JSON differs from files/dashboard.json")


def expect(cond, msg):
    if not cond:
        fail(msg)


def check_overrides(chart, path, _namespace):
    rule = only(objects(path, "PrometheusRule"), "PrometheusRule")
    meta = rule["metadata"]
    expect(meta["namespace"] == "monitoring", f"PrometheusRule namespace {meta['namespace']}")
    expect(meta["labels"].get("release") == "kube-prometheus-stack", f"PrometheusRule labels {meta['labels']}")
    expect(meta.get("annotations") == {"owner": "platform"}, f"PrometheusRule annotations {meta.get('annotations')}")
    groups = rule["spec"]["groups"]
    expect(len(groups) == 2, f"{len(groups)} groups, want the source's and the extra one")
    rules = {r["alert"]: r for r in groups[0]["rules"]}
    wanted = [r["alert"] for r in source(chart, "alerts.yaml")["groups"][0]["rules"] if r["alert"] != "HwcloudBackupFailed"]
    expect(list(rules) == wanted, f"alerts {list(rules)}, want {wanted} (HwcloudBackupFailed disabled)")
    for name, r in rules.items():
        expect(r["labels"].get("team") == "platform", f"{name}: additionalRuleLabels missing: {r['labels']}")
        expect(r["annotations"].get("runbook_url", "").startswith("https://runbooks.example/"),
               f"{name}: additionalRuleAnnotations missing: {r['annotations']}")
        expect("summary" in r["annotations"], f"{name}: lost its summary")
    missing = rules["HwcloudBackupMissing"]
    expect(missing["expr"].endswith("> 8 * 24 * 3600"), f"threshold not applied: {missing['expr']!r}")
    expect(missing["labels"]["severity"] == "warning", f"HwcloudBackupMissing severity {missing['labels']}")
    errors = rules["HwcloudBackupCloudErrors"]
    expect(errors["expr"].rstrip().endswith(") > 0.5"), f"threshold not applied: {errors['expr']!r}")
    expect(errors["for"] == "30m", f"for not applied: {errors.get('for')}")
    expect(errors["labels"]["severity"] == "critical", f"severity not applied: {errors['labels']}")
    expect(rules["HwcloudBackupNoLeader"]["labels"].get("pager") == "true", "per-alert labels not applied")
    expect([r["alert"] for r in groups[1]["rules"]] == ["HwcloudBackupSlowReconciles"], f"extra group {groups[1]}")

    cm = only(dashboards(path), "dashboard ConfigMap")
    meta = cm["metadata"]
    expect(meta["namespace"] == "grafana", f"dashboard ConfigMap namespace {meta['namespace']}")
    expect(meta["labels"].get("my_dashboards") == "yes", f"sidecar label not applied: {meta['labels']}")
    expect("grafana_dashboard" not in meta["labels"], f"default sidecar label kept: {meta['labels']}")
    expect(meta["labels"].get("team") == "platform", f"extra labels not applied: {meta['labels']}")
    expect(meta.get("annotations") == {"grafana_folder": "Backups"}, f"annotations {meta.get('annotations')}")
    expect(dashboard_json(cm) == source(chart, "dashboard.json"), "the dashboard JSON differs from files/")


MODES = {"absent": check_absent, "defaults": check_defaults, "overrides": check_overrides}

if __name__ == "__main__":
    if len(sys.argv) < 4 or sys.argv[3] not in MODES:
        fail(__doc__)
    chart, path, mode = sys.argv[1:4]
    MODES[mode](chart, path, sys.argv[4] if len(sys.argv) > 4 else None)
    print(f"check-monitoring: {path} ({mode}) ok")
