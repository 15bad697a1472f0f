#!/usr/bin/env bash
# Make benchmarks/.venv-peers: adcompare (editable) plus the peer AD libraries that
# benchmarks/run.py times against it. Kept apart from the project's dev venv (.venv), whose
# tests must not see torch or jax.
#
#   bash benchmarks/setup_peers.sh            # create or update
#   PYTHON=python3.11 bash benchmarks/setup_peers.sh
#
# torch is pinned to exactly 2.13.0: on this kind of machine a CPU wheel of that version
# lies on disk (pip's find-links), while any other specification makes pip download a
# CUDA build of several GB. It is installed first and alone, so nothing after it can ask
# for another torch.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
project="$(cd "$here/.." && pwd)"
venv="$here/.venv-peers"
python="${PYTHON:-python3}"

if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
pip=("$venv/bin/python" -m pip install --disable-pip-version-check)

"${pip[@]}" "torch==2.13.0"
"${pip[@]}" -e "$project"
# autograd: HIPS autograd; jax[cpu] brings jaxlib for the CPU; micrograd: Karpathy's;
# threadpoolctl: to record which BLAS kernel numpy runs (see OPENBLAS_CORETYPE in run.py).
"${pip[@]}" autograd "jax[cpu]" micrograd numdifftools threadpoolctl "torch==2.13.0"

# Each peer must import; print what was installed.
"$venv/bin/python" - <<'PY'
import importlib
import sys

failed = []
for name in ("adcompare", "numpy", "sympy", "autograd", "jax", "jaxlib", "torch", "micrograd", "numdifftools"):
    try:
        module = importlib.import_module(name)
        if name == "micrograd":
            from micrograd.engine import Value  # noqa: F401  the part run.py uses
        if name == "jax":
            import jax.numpy as jnp
            float(module.grad(lambda x: jnp.sin(x))(1.0))
        if name == "torch":
            import torch
            torch.ones(1, requires_grad=True).sum().backward()
        version = getattr(module, "__version__", None)
        if version is None:
            from importlib.metadata import version as dist_version
            version = dist_version(name)
        print(f"  {name:13s} {version}")
    except Exception as error:  # report every failure, not just the first
        failed.append(name)
        print(f"  {name:13s} FAILED: {type(error).__name__}: {error}")
if failed:
    sys.exit(f"setup_peers: could not import {', '.join(failed)}")
print("setup_peers: all peers import")
PY
