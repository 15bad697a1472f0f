"""adcompare's check of the 19-layer set (tests/student_layers.py) against
torch.autograd.gradcheck on the same functions, at the sizes the assignments use.

"The same function": the student's numpy forward and backward, wrapped in a
``torch.autograd.Function`` whose forward calls the numpy forward and whose backward calls
the numpy backward (how one checks a hand-written numpy backward with PyTorch); torch's
gradcheck (float64, its defaults: eps 1e-6, atol 1e-5, rtol 1e-3, slow mode) compares
that backward with central differences of that forward. adcompare runs ``check_layer`` or
``gradcheck`` with its defaults, as the tests do.

Each version (the correct backward and its two bugs) is one check; the two tools check
it in turn, three times each, in this process, and the median time of each is written
(the machine is shared: single runs were seen to vary twofold). torch is needed only here:
``pip install torch==2.13.0`` in a venv; it is never a dependency of adcompare.

    python benchmarks/gradcheck_layers.py [--out benchmarks/results/gradcheck_layers.md]
"""

import argparse
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))

import student_layers as layers                    # noqa: E402
import test_student_layers as harness              # noqa: E402
from adcompare import GradcheckError               # noqa: E402
from adcompare.tracing import differentiable       # noqa: E402


REPEATS = 3


def _numpy_arguments(inputs, positions, tensors):
    """The layer's inputs with the differentiated ones taken from torch tensors (copies)."""
    call = list(inputs)
    for i, t in zip(positions, tensors):
        call[i] = t.detach().numpy().copy()
    return call


def torch_check(case, version):
    """torch.autograd.gradcheck of the numpy layer: (seconds, passed)."""
    import torch
    layer, inputs, params = layers.build(case, version, "assignment")
    if case.kind == "object":
        values = [np.array(getattr(layer, p), dtype=float) for p in params]
        float_inputs = [i for i, v in enumerate(inputs) if differentiable(v)]
        tensors = [torch.tensor(inputs[i], dtype=torch.float64, requires_grad=True) for i in float_inputs] + \
                  [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in values]

        class Wrapped(torch.autograd.Function):
            @staticmethod
            def forward(ctx, *ts):
                call = _numpy_arguments(inputs, float_inputs, ts)
                for p, t in zip(params, ts[len(float_inputs):]):
                    setattr(layer, p, t.detach().numpy().copy())
                return torch.as_tensor(np.asarray(layer.forward(*call), dtype=float))

            @staticmethod
            def backward(ctx, grad):
                dx = layer.backward(grad.numpy().copy() if grad.dim() else float(grad))
                grads = [torch.as_tensor(np.asarray(dx, dtype=float))] + \
                        [torch.as_tensor(np.asarray(getattr(layer, f"d{p}"), dtype=float)) for p in params]
                return tuple(grads)
    elif case.kind == "pair":
        forward, backward = layer
        float_inputs = [i for i, v in enumerate(inputs) if differentiable(v)]
        tensors = [torch.tensor(inputs[i], dtype=torch.float64, requires_grad=True) for i in float_inputs]
        state = {}

        class Wrapped(torch.autograd.Function):
            @staticmethod
            def forward(ctx, *ts):
                result = forward(*_numpy_arguments(inputs, float_inputs, ts))
                state["cache"] = result[-1]
                outs = tuple(torch.as_tensor(np.asarray(o, dtype=float)) for o in result[:-1])
                return outs if len(outs) > 1 else outs[0]

            @staticmethod
            def backward(ctx, *grads):
                returned = backward(*[g.numpy().copy() for g in grads], state["cache"])
                returned = returned if isinstance(returned, tuple) else (returned,)
                return tuple(torch.as_tensor(np.asarray(g, dtype=float)) for g in returned)
    else:
        loss = layer
        rest = inputs[1:]
        tensors = [torch.tensor(inputs[0], dtype=torch.float64, requires_grad=True)]

        class Wrapped(torch.autograd.Function):
            @staticmethod
            def forward(ctx, t):
                value, dx = loss(t.detach().numpy().copy(), *rest)
                ctx.dx = dx
                return torch.tensor(float(value), dtype=torch.float64)

            @staticmethod
            def backward(ctx, grad):
                return grad * torch.as_tensor(np.asarray(ctx.dx, dtype=float))

    start = time.perf_counter()
    try:
        passed = torch.autograd.gradcheck(Wrapped.apply, tuple(tensors), raise_exception=False)
    except Exception:
        passed = False
    return time.perf_counter() - start, bool(passed)


def adcompare_check(case, version):
    """adcompare's check as the tests run it: (seconds, passed, variables, the first line of the failure)."""
    start = time.perf_counter()
    try:
        report = harness.run(case, version, "assignment")
        passed, line, n = True, "", report.n
    except GradcheckError as error:
        passed, n = False, error.report.n if error.report else 0
        line = str(error).splitlines()[1] if len(str(error).splitlines()) > 1 else str(error)
    return time.perf_counter() - start, passed, n, line


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(HERE, "results", "gradcheck_layers.md"))
    parser.add_argument("--only", default=None, help="one layer's name")
    args = parser.parse_args()
    load_before = os.getloadavg()
    rows = []
    for case in layers.CASES:
        if args.only and case.name != args.only:
            continue
        for label, version in [("correct", case.correct), ("bug 1", case.bugs[0]), ("bug 2", case.bugs[1])]:
            ours_runs, theirs_runs = [], []
            for _ in range(REPEATS):
                ours, passed, n, line = adcompare_check(case, version)
                theirs, torch_passed = torch_check(case, version)
                ours_runs.append(ours)
                theirs_runs.append(theirs)
            ours, theirs = float(np.median(ours_runs)), float(np.median(theirs_runs))
            rows.append((case.name, label, n, ours, passed, theirs, torch_passed, line))
            print(f"{case.name:28s} {label:8s} n={n:4d} adcompare {ours:7.3f} s ({'pass' if passed else 'FAIL'})  "
                  f"torch {theirs:7.3f} s ({'pass' if torch_passed else 'FAIL'})  ratio {ours / theirs:5.2f}",
                  flush=True)
    load_after = os.getloadavg()
    lines = ["# adcompare vs torch.autograd.gradcheck on the 19-layer set (assignment sizes)", "",
             f"Load average before: {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}; "
             f"after: {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f} (2 cores, shared).", "",
             f"Times are medians of {REPEATS} runs.", "",
             "| layer | version | variables | adcompare s | verdict | torch s | torch verdict | ratio |",
             "|---|---|---:|---:|---|---:|---|---:|"]
    for name, label, n, ours, passed, theirs, torch_passed, line in rows:
        lines.append(f"| {name} | {label} | {n} | {ours:.3f} | {'pass' if passed else 'FAIL'} | {theirs:.3f} | "
                     f"{'pass' if torch_passed else 'FAIL'} | {ours / theirs:.2f} |")
    worst = max(rows, key=lambda r: r[3] / r[5])
    slowest = max(rows, key=lambda r: r[3])
    lines += ["", f"Largest ratio: {worst[3] / worst[5]:.2f} ({worst[0]}, {worst[1]}); slowest adcompare check: "
                  f"{slowest[3]:.2f} s ({slowest[0]}, {slowest[1]})."]
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as handle:
        handle.write("\n".join(lines) + "\n")
    print("\n".join(lines[-1:]))


if __name__ == "__main__":
    main()
