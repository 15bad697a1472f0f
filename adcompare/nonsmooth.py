"""Non-smoothness is a property of the function, not of a node: the one module that
decides it.

At a point where some node is at a kink (abs or relu at 0, max or min at a tie, a traced
comparison decided at a tie), the question a user asks is about the whole function f:
does ∂f/∂xⱼ exist here, and if not, what are its one-sided derivatives? This module
answers it; the back ends, the cross-check (`adcompare.compare`) and gradcheck read the
answer and never decide it again.
"""

import numpy as np

from .backends.finite_difference import step_size


def one_sided_differences(function_at, point):
    """Left and right one-sided derivatives, (m, n) each, by second-order one-sided differences.

    ``function_at(x)`` evaluates the function (its float code, not the Graph, which holds
    only the branch the trace took) at a flat point. The step is ε^(1/3)·max(1, |xⱼ|):
    D⁺ = (−3f(x) + 4f(x + h) − f(x + 2h)) / 2h, D⁻ = (3f(x) − 4f(x − h) + f(x − 2h)) / 2h,
    both O(h²) when f is smooth on that side.
    """
    point = np.array(point, dtype=float)
    center = function_at(point)
    left = np.zeros((center.size, point.size))
    right = np.zeros_like(left)
    for j in range(point.size):
        h = step_size(point[j], "central")
        shifted = {}
        for multiple in (-2, -1, 1, 2):
            x = point.copy()
            x[j] = point[j] + multiple * h
            shifted[multiple] = function_at(x)
        right[:, j] = (-3.0 * center + 4.0 * shifted[1] - shifted[2]) / (2.0 * h)
        left[:, j] = (3.0 * center - 4.0 * shifted[-1] + shifted[-2]) / (2.0 * h)
    return left, right
