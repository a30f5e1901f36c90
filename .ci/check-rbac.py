#!/usr/bin/env python3
"""Asserts that rendered chart manifests grant exactly the operator's RBAC, no more and no less.

usage: check-rbac.py MANIFESTS.yaml MODE [LEASE_NAMESPACE NAMESPACE...]
  MODE cluster:    one ClusterRole with everything; leases in a Role in LEASE_NAMESPACE
  MODE namespaced: ClusterRole with the CRD check only; a Role per NAMESPACE; leases as above
  MODE no-leader:  like cluster, and no lease permission anywhere
"""
import sys

import yaml

GROUP = "backup.hwcloud.dev"
KINDS = ["dcsbackups", "dcsrestores", "ddsbackups", "taurusdbbackups"]

NAMESPACED = (
    {(GROUP, k, v) for k in KINDS for v in ("get", "list", "watch", "patch")}
    | {(GROUP, f"{k}/status", v) for k in KINDS for v in ("get", "patch")}
    | {(GROUP, f"{k}/finalizers", "update") for k in KINDS}
    | {("", "secrets", v) for v in ("get", "list", "watch")}
    | {("events.k8s.io", "events", v) for v in ("create", "patch")}
)
CRDS = {("apiextensions.k8s.io", "customresourcedefinitions", v) for v in ("get", "list")}
LEASES = {("coordination.k8s.io", "leases", v) for v in ("get", "create", "update", "patch")}


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


def fail(msg):
    sys.exit(f"RBAC check failed: {msg}")


def expect(name, got, want):
    if got != want:
        fail(f"{name}\n  missing: {sorted(want - got)}\n  extra:   {sorted(got - want)}")


def main(path, mode, lease_ns=None, *namespaces):
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

    lease_roles = [r for r in roles if ("coordination.k8s.io", "leases", "create") in grants(r)]
    other_roles = [r for r in roles if r not in lease_roles]
    if mode == "no-leader":
        if lease_roles:
            fail("lease Role rendered with leader election disabled")
    else:
        if len(lease_roles) != 1 or lease_roles[0]["metadata"]["namespace"] != lease_ns:
            fail(f"expected one lease Role in namespace {lease_ns}")
        expect("lease Role", grants(lease_roles[0]), LEASES)
        # Only create may be unrestricted; the rest must name the operator's own Lease.
        for rule in lease_roles[0]["rules"]:
            if set(rule["verbs"]) - {"create"} and not rule.get("resourceNames"):
                fail(f"lease rule {rule} is not limited to the operator's Lease")

    if mode in ("cluster", "no-leader"):
        expect("ClusterRole", grants(cluster_roles[0]), NAMESPACED | CRDS)
        if other_roles:
            fail(f"unexpected Roles: {[r['metadata']['name'] for r in other_roles]}")
    elif mode == "namespaced":
        expect("ClusterRole", grants(cluster_roles[0]), CRDS)
        got_ns = sorted(r["metadata"]["namespace"] for r in other_roles)
        if got_ns != sorted(namespaces):
            fail(f"Roles in {got_ns}, expected {sorted(namespaces)}")
        for r in other_roles:
            expect(f"Role in {r['metadata']['namespace']}", grants(r), NAMESPACED)
    else:
        fail(f"unknown mode {mode}")
    print(f"RBAC ok ({mode}): {path}")


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    main(*sys.argv[1:])
