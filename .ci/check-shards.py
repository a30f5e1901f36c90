#!/usr/bin/env python3
"""Asserts that a rendered chart splits the resources between its Deployments without gap or overlap.

With `shards: [a, b]` the chart renders the main Deployment watching `!backup.hwcloud.dev/shard` and one per
shard watching `backup.hwcloud.dev/shard=<name>` (README "Sharding"). This evaluates every Deployment's
--watch-label-selector the way the API server does against resources without the label, with each listed shard
and with other labels, and requires exactly one Deployment to watch each; it also requires distinct Leases,
Deployments whose pod selectors do not overlap (the main one's cannot change on upgrade), and a metrics Service
for each. Without shards there must be one Deployment, watching everything.

usage: check-shards.py MANIFESTS.yaml [SHARD...]
"""
import re
import sys

import yaml

SHARD_LABEL = "backup.hwcloud.dev/shard"


def fail(msg):
    sys.exit(f"shard check failed: {msg}")


def split_terms(selector):
    """Splits on commas outside parentheses."""
    terms, depth, cur = [], 0, ""
    for c in selector:
        depth += {"(": 1, ")": -1}.get(c, 0)
        if c == "," and depth == 0:
            terms.append(cur.strip())
            cur = ""
        else:
            cur += c
    terms.append(cur.strip())
    return terms


def term_matches(term, labels):
    m = re.fullmatch(r"(\S+)\s+(in|notin)\s+\((.*)\)", term)
    if m:
        key, op, values = m.group(1), m.group(2), {v.strip() for v in m.group(3).split(",")}
        return (labels.get(key) in values) if op == "in" else (labels.get(key) not in values)
    if term.startswith("!"):
        return term[1:].strip() not in labels
    if "!=" in term:
        key, value = (p.strip() for p in term.split("!=", 1))
        return labels.get(key) != value
    if "=" in term:
        key, value = (p.strip() for p in re.split(r"==?", term, maxsplit=1))
        return labels.get(key) == value
    return term in labels


def selects(selector, labels):
    """Whether a label selector (None: everything) matches an object with `labels`."""
    if selector is None:
        return True
    return all(term_matches(t, labels) for t in split_terms(selector) if t)


def arg(container, flag):
    values = [a.split("=", 1)[1] for a in container["args"] if a.startswith(f"--{flag}=")]
    if len(values) > 1:
        fail(f"--{flag} given {len(values)} times")
    return values[0] if values else None


def main(path, *shards):
    with open(path) as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    deployments = [d for d in docs if d["kind"] == "Deployment"]
    services = [d for d in docs if d["kind"] == "Service"]
    if len(deployments) != 1 + len(shards):
        fail(f"{len(deployments)} Deployments for shards {list(shards)}")

    watching = {}
    for d in deployments:
        name = d["metadata"]["name"]
        (container,) = [c for c in d["spec"]["template"]["spec"]["containers"] if c["name"] == "operator"]
        watching[name] = (arg(container, "watch-label-selector"), arg(container, "lease-name"))
    if not shards and next(iter(watching.values()))[0] is not None:
        fail(f"without shards the Deployment must watch everything: {watching}")
    leases = [lease for _, lease in watching.values()]
    if None in leases or len(set(leases)) != len(leases):
        fail(f"every Deployment needs a Lease of its own: {watching}")

    # Resources without the label, with each listed shard, and with unrelated labels: one owner each.
    samples = [{}, {"team": "x"}] + [{SHARD_LABEL: s} for s in shards] + [{SHARD_LABEL: s, "team": "x"} for s in shards]
    for labels in samples:
        owners = [name for name, (sel, _) in watching.items() if selects(sel, labels)]
        if len(owners) != 1:
            fail(f"a resource labelled {labels} is watched by {owners or 'no Deployment'}: {watching}")
    for s in shards:
        owners = [name for name, (sel, _) in watching.items() if selects(sel, {SHARD_LABEL: s})]
        if watching[owners[0]][0] != f"{SHARD_LABEL}={s}":
            fail(f"shard {s} is watched by {owners[0]} with {watching[owners[0]][0]!r}")

    # Each Deployment's pods: selected by it alone, and by a metrics Service.
    for d in deployments:
        pods = d["spec"]["template"]["metadata"]["labels"]
        claimed = [o["metadata"]["name"] for o in deployments
                   if all(pods.get(k) == v for k, v in o["spec"]["selector"]["matchLabels"].items())]
        if claimed != [d["metadata"]["name"]]:
            fail(f"the pods of {d['metadata']['name']} match the selectors of {claimed}")
        if not any(all(pods.get(k) == v for k, v in s["spec"]["selector"].items()) for s in services):
            fail(f"no Service selects the pods of {d['metadata']['name']}")
    print(f"shards ok ({', '.join(shards) or 'none'}): {path}: " +
          "; ".join(f"{n} watches {sel or 'everything'} on Lease {lease}" for n, (sel, lease) in watching.items()))


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(*sys.argv[1:])
