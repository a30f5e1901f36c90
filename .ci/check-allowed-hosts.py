#!/usr/bin/env python3
"""Asserts that the chart's cloud.allowedEndpointHosts reaches every operator Deployment as its
--allowed-endpoint-hosts (issue 8, item 11): once, comma separated, in order, nothing added or lost.

The operator parses that flag (src/config_tests.rs `run_flags` covers the comma-separated form); this
checks what helm makes of the value: without an override the chart's values.yaml list, with one the
user's hosts, for the main Deployment and every shard's.

usage: check-allowed-hosts.py CHART MANIFESTS.yaml [HOST...]
  no HOST: the hosts listed in CHART/values.yaml under cloud.allowedEndpointHosts
"""
import os
import sys

import yaml

FLAG = "--allowed-endpoint-hosts="


def fail(msg):
    sys.exit(f"allowed-hosts check failed: {msg}")


def main(chart, path, *hosts):
    if not hosts:
        with open(os.path.join(chart, "values.yaml")) as f:
            hosts = yaml.safe_load(f)["cloud"]["allowedEndpointHosts"]
        if not hosts:
            fail("values.yaml lists no allowed host")
    want = FLAG + ",".join(hosts)
    with open(path) as f:
        deployments = [d for d in yaml.safe_load_all(f) if d and d["kind"] == "Deployment"]
    if not deployments:
        fail(f"no Deployment in {path}")
    for d in deployments:
        name = d["metadata"]["name"]
        spec = d["spec"]["template"]["spec"]
        (container,) = [c for c in spec["containers"] if c["name"] == "operator"]
        given = [a for a in container["args"] if a.startswith(FLAG)]
        if given != [want]:
            fail(f"{name}: expected [{want!r}], got {given!r}")
        env = [e["name"] for e in container.get("env", [])]
        if "HWBK_ALLOWED_ENDPOINT_HOSTS" in env:
            fail(f"{name}: HWBK_ALLOWED_ENDPOINT_HOSTS set besides the flag (the flag wins; confusing)")
    print(f"{path}: {len(deployments)} Deployment(s) pass {want}")


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    main(*sys.argv[1:])
