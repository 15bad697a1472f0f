"""Accuracy of the finite-difference methods against the symbolic reference (30 digits).

Run:  python benchmarks/fd_accuracy.py [points per function]

The function set (smooth, every operation complex-analytic, chosen to mix scales,
compositions and fan-out) and the sampling (seeded, uniform in the boxes below) are
documented here. Entries whose exact value is below 1e-3 in magnitude are left out (a
relative error means little there). Statistics are given twice: over all entries, and over
the well-conditioned ones, whose round-off floor for central differences,
ε·max(1, |f|) / (h·|∂f/∂xⱼ|) with h the central step, is below 1e-10. Elsewhere the
derivative is small beside f (x1 − cos x2 near 0, say) and every difference method loses
digits to round-off, however its step is chosen. Prints, per method, the maximum and median
relative error and how often the method's own error estimate covered its actual error.
"""

import sys

import mpmath
import numpy as np

from adcompare.backends import run_method
from adcompare.backends.finite_difference import EPS, step_size
from adcompare.parse import parse

FUNCTIONS = (
    ("ln(x1)+x1*x2-sin(x2)", ((0.5, 4), (0.5, 6))),
    ("exp(x)*sin(y)", ((-1, 1), (-2, 2))),
    ("sigmoid(w*x+b)", ((-2, 2), (-2, 2), (-1, 1))),
    ("tanh(x)^2 + x^3", ((-1.5, 1.5),)),
    ("sqrt(1+x^2)", ((-4, 4),)),
    ("atan(x/y)", ((0.5, 3), (0.5, 3))),
    ("log(x, 3)*cosh(y)", ((0.5, 8), (-1, 1))),
    ("softplus(x-y^2)", ((-2, 2), (-1.5, 1.5))),
    ("x^y", ((0.5, 2.5), (0.5, 3))),
    ("1/(1+x^2)", ((-3, 3),)),
    ("sin(x)*cos(y)*exp(z)", ((-2, 2), (-2, 2), (-1, 1))),
    ("asin(x)+acos(x/2)", ((-0.8, 0.8),)),
)
METHODS = ("central", "forward", "richardson", "complex-step")
TARGETS = {"central": 1e-9, "richardson": 1e-11, "complex-step": 1e-14}


def main(points_per_function=25):
    rng = np.random.default_rng(20261125)
    errors = {m: [] for m in METHODS}
    covered = {m: 0 for m in METHODS}
    for text, box in FUNCTIONS:
        graph = parse(text)
        for _ in range(points_per_function):
            point = tuple(float(rng.uniform(low, high)) for low, high in box)
            reference = run_method("symbolic", graph, point)
            for method in METHODS:
                result = run_method("finite_difference", graph, point, method=method)
                estimates = result.details["error_estimate"]
                with mpmath.workdps(40):
                    for j in range(graph.n_inputs):
                        exact = reference.jacobian[0, j]
                        if abs(exact) < 1e-3:
                            continue
                        error = abs(mpmath.mpf(result.jacobian[0, j]) - exact)
                        floor = EPS * max(1, abs(reference.value[0])) / (step_size(point[j]) * abs(exact))
                        scaled = floor < 1e-10
                        errors[method].append((float(error / abs(exact)), scaled))
                        covered[method] += bool(error <= max(estimates[0, j], 1e-300))
    print(f"{len(FUNCTIONS)} functions × {points_per_function} points; relative error against sympy at 30 digits")
    print(f"{'method':14} {'entries':>8} {'max rel':>10} {'median rel':>11} {'estimate ≥ error':>17} "
          f"{'conditioned':>12} {'max rel there':>14} {'target':>8}")
    for method in METHODS:
        values = np.array([e for e, _ in errors[method]])
        scaled = np.array([e for e, ok in errors[method] if ok])
        target = TARGETS.get(method)
        verdict = "" if target is None else ("met" if scaled.max() <= target else "MISSED")
        print(f"{method:14} {len(values):8d} {values.max():10.2e} {np.median(values):11.2e} "
              f"{covered[method] / len(values):16.1%} {len(scaled):12d} {scaled.max():14.2e} "
              f"{'' if target is None else f'{target:.0e}':>8} {verdict}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 25)
