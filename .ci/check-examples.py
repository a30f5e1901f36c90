#!/usr/bin/env python3
"""Checks that every examples/*.yaml resource of our API group fits the generated CRD schema in crds/.

It walks each example's spec against the CRD's openAPIV3Schema: unknown fields, missing required fields,
wrong basic types and values outside an enum fail. (CEL rules are checked by the Rust tests, not here.)

usage: check-examples.py CRD_DIR EXAMPLES_DIR
"""
import glob
import os
import sys

import yaml

GROUP = "backup.hwcloud.dev"
TYPES = {"string": str, "integer": int, "boolean": bool, "object": dict, "array": list}


def load_all(pattern):
    for path in sorted(glob.glob(pattern)):
        with open(path) as f:
            for doc in yaml.safe_load_all(f):
                if doc:
                    yield path, doc


def check(value, schema, where, errors):
    if schema.get("x-kubernetes-int-or-string") and isinstance(value, (int, str)):
        return
    want = schema.get("type")
    if want in TYPES and not (isinstance(value, TYPES[want]) and not (want == "integer" and isinstance(value, bool))):
        errors.append(f"{where}: expected {want}, got {type(value).__name__}")
        return
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{where}: {value!r} not in {schema['enum']}")
    if isinstance(value, dict):
        props = schema.get("properties")
        for key in schema.get("required", []):
            if key not in value:
                errors.append(f"{where}: missing required field {key!r}")
        if props is None:
            return
        for key, sub in value.items():
            if key not in props:
                errors.append(f"{where}.{key}: unknown field (known: {sorted(props)})")
            else:
                check(sub, props[key], f"{where}.{key}", errors)
    elif isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            check(item, schema["items"], f"{where}[{i}]", errors)


def main(crd_dir, examples_dir):
    schemas = {}
    for _, crd in load_all(os.path.join(crd_dir, "*.yaml")):
        if crd.get("kind") != "CustomResourceDefinition" or crd["spec"]["group"] != GROUP:
            continue
        for version in crd["spec"]["versions"]:
            api_version = f"{GROUP}/{version['name']}"
            schemas[(api_version, crd["spec"]["names"]["kind"])] = version["schema"]["openAPIV3Schema"]
    errors, seen = [], set()
    for path, doc in load_all(os.path.join(examples_dir, "*.yaml")):
        if not str(doc.get("apiVersion", "")).startswith(GROUP + "/"):
            continue
        key = (doc["apiVersion"], doc["kind"])
        seen.add(doc["kind"])
        schema = schemas.get(key)
        if schema is None:
            errors.append(f"{path}: no CRD serves {key}")
            continue
        spec_schema = schema.get("properties", {}).get("spec", {})
        check(doc.get("spec", {}), spec_schema, f"{path}: spec", errors)
    missing = {kind for _, kind in schemas} - seen
    if missing:
        errors.append(f"no example for {sorted(missing)}")
    if errors:
        sys.exit("example check failed:\n  " + "\n  ".join(errors))
    print(f"examples ok: {sorted(seen)}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(*sys.argv[1:])
