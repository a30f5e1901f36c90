#!/usr/bin/env python3
"""Asserts that rendered chart manifests grant exactly the operator's RBAC, no more and no less.

The expected grants are the API calls the code makes, listed once in deploy/api-calls.txt (each with a comment
naming its call site); tests/rbac.rs checks the code against the same list.

usage: check-rbac.py MANIFESTS.yaml MODE [LEASE_NAMESPACE NAMESPACE...]
  MODE cluster:    one ClusterRole with everything; leases in a Role in LEASE_NAMESPACE, get/patch limited to
                   the --lease-name of every rendered Deployment (the main one and one per shard)
  MODE namespaced: ClusterRole with the CRD check only; a Role per NAMESPACE; leases as above
  MODE no-leader:  like cluster, and no lease permission anywhere
"""
import os
import sys

import yaml

API_CALLS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "deploy", "api-calls.txt")
SCOPES = ("watched", "cluster", "lease")


def load_api_calls(path=API_CALLS):
    """{scope: {(apiGroup, resource, verb)}} from the list of API calls."""
    out = {scope: set() for scope in SCOPES}
    with open(path) as f:
        for n, line in enumerate(f, 1):
            words = line.split("#", 1)[0].split()
            if not words:
                continue
            if len(words) != 4 or words[0] not in SCOPES:
                fail(f"{path}:{n}: expected 'SCOPE API_GROUP RESOURCE VERB' with SCOPE in {SCOPES}: {line.strip()}")
            scope, group, resource, verb = words
            out[scope].add(("" if group == "core" else group, resource, verb))
    return out


def grants(role):
    out = set()
    for rule in role.get("rules") or []:
        if rule.get("nonResourceURLs"):
            fail(f"{role['metadata']['name']}: unexpected nonResourceURLs")
        for g in rule.get("apiGroups", []):
            for r in rule.get("resources", []):
                for v in rule.get("verbs", []):
                    if "*" in (g, r, v):
                        fail(f"{role['kind']} {role['metadata']['name']}: wildcard in {rule}")
                    out.add((g, r, v))
    return out


def deployment_leases(docs):
    """The --lease-name of every Deployment's operator container."""
    for d in docs:
        if d["kind"] != "Deployment":
            continue
        for c in d["spec"]["template"]["spec"]["containers"]:
            for a in c.get("args") or []:
                if a.startswith("--lease-name="):
                    yield a.split("=", 1)[1]


def fail(msg):
    sys.exit(f"RBAC check failed: {msg}")


def expect(name, got, want):
    if got != want:
        fail(f"{name} does not match deploy/api-calls.txt\n  missing: {sorted(want - got)}\n  extra:   {sorted(got - want)}")


def main(path, mode, lease_ns=None, *namespaces):
    calls = load_api_calls()
    watched, cluster, leases = calls["watched"], calls["cluster"], calls["lease"]
    with open(path) as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    cluster_roles = [d for d in docs if d["kind"] == "ClusterRole"]
    roles = [d for d in docs if d["kind"] == "Role"]
    if len(cluster_roles) != 1:
        fail(f"expected one ClusterRole, found {len(cluster_roles)}")
    bound = {d["roleRef"]["name"] for d in docs if d["kind"] in ("ClusterRoleBinding", "RoleBinding")}
    for r in cluster_roles + roles:
        if r["metadata"]["name"] not in bound:
            fail(f"{r['kind']} {r['metadata']['name']} has no binding")

    lease_roles = [r for r in roles if any(g[:2] == ("coordination.k8s.io", "leases") for g in grants(r))]
    other_roles = [r for r in roles if r not in lease_roles]
    if mode == "no-leader":
        if lease_roles:
            fail("lease Role rendered with leader election disabled")
    else:
        if len(lease_roles) != 1 or lease_roles[0]["metadata"]["namespace"] != lease_ns:
            fail(f"expected one lease Role in namespace {lease_ns}")
        expect("lease Role", grants(lease_roles[0]), leases)
        # Only create may be unrestricted; the rest must name exactly the Leases the Deployments take (one per
        # shard with `shards`).
        taken = set(deployment_leases(docs))
        for rule in lease_roles[0]["rules"]:
            if set(rule["verbs"]) - {"create"} and set(rule.get("resourceNames") or []) != taken:
                fail(f"lease rule {rule} does not name exactly the Deployments' Leases {sorted(taken)}")

    if mode in ("cluster", "no-leader"):
        expect("ClusterRole", grants(cluster_roles[0]), watched | cluster)
        if other_roles:
            fail(f"unexpected Roles: {[r['metadata']['name'] for r in other_roles]}")
    elif mode == "namespaced":
        expect("ClusterRole", grants(cluster_roles[0]), cluster)
        got_ns = sorted(r["metadata"]["namespace"] for r in other_roles)
        if got_ns != sorted(namespaces):
            fail(f"Roles in {got_ns}, expected {sorted(namespaces)}")
        for r in other_roles:
            expect(f"Role in {r['metadata']['namespace']}", grants(r), watched)
    else:
        fail(f"unknown mode {mode}")
    print(f"RBAC ok ({mode}): {path}")


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    main(*sys.argv[1:])
