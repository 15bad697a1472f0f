"""Regression tests: each case a bug or a gap found by the property runs
(tests/test_properties.py, benchmarks/fuzz_agreement.py), with the outcome that is right.
check_agreement (tests/strategies.py) also verifies each classification independently."""

from fractions import Fraction

import numpy as np
import pytest

import adcompare
from adcompare.backends import run_method
from adcompare.graph import Const, Graph, Node
from strategies import check_agreement

HALF = Const(0.5, Fraction(1, 2), "0.5")


def graph(n, *nodes):
    nodes = tuple(Node(op, args) for op, args in nodes)
    return Graph(tuple(f"x{i + 1}" for i in range(n)), nodes, (n + len(nodes) - 1,))


CASES = {
    # A central stencil straddled abs's kink: 0.0017 instead of 1.
    "stencil across a kink": (graph(1, ("abs", (0,))), (1e-8,), "agree"),
    # A pole inside the stencil, every stencil point in the domain.
    # Now a step below the distance to the pole agrees.
    "stencil across a pole": (graph(2, ("div", (0, 1))), (1.0, 1.1932487393803931e-130), "agree"),
    # Bookkeeping drifted after a stencil evaluation raised, so a crossing went unseen.
    "crossing after a domain error": (
        Graph(("x1", "x2"), tuple(Node(op, args) for op, args in (
            ("abs", (1,)), ("abs", (2,)), ("log", (0, HALF)), ("abs", (4,)), ("abs", (5,)), ("abs", (1,)),
            ("abs", (7,)))), (8,)), (3.4562478553457593e-175, 1.15465113346734e-264), "agree"),
    # Kinks of nodes the output does not depend on boxed the stencil in.
    "kinks of dead nodes": (
        graph(1, ("acos", (0,)), ("abs", (1,)), ("cos", (1,)), ("abs", (3,)), ("abs", (0,)), ("abs", (0,)),
              ("abs", (0,)), ("abs", (0,)), ("abs", (1,))), (-1.78714537312201e-53,), "agree"),
    # Reverse-mode adjoints overflowed (2 × 9e307) and came back as nan.
    "adjoint overflow": (graph(3, ("div", (2, 2)), ("add", (3, 3))), (0.0, 0.0, 1.1125369292536007e-308),
                         "overflow"),
    # Terms of ±1e12 cancel differently in forward and reverse mode.
    "cancellation": (graph(1, ("div", (0, 0)), ("add", (0, 1)), ("cos", (2,)), ("add", (3, HALF))), (1e-12,),
                     "cancellation"),
    # exp(4e-27) is exactly 1 in floats: ln of it is 0, not 4e-27.
    "value lost to rounding": (graph(1, ("exp", (0,)), ("log", (1, 0))), (4.369590732336938e-27,), "rounding"),
    # tan of 1.3e38, whose ulp is 1e22.
    "periodic function beyond float precision": (
        graph(1, ("exp", (0,)), ("exp", (1,)), ("sinh", (2,)), ("abs", (3,)), ("tan", (4,)), ("add", (5, HALF))),
        (1.5,), "rounding"),
    # A sawtooth of slope 1e5: one central step spans whole periods; the stencil's slopes
    # jump, so finite differences go one-sided with a fine step and agree.
    "sawtooth": (graph(1, ("abs", (0,)), ("sinh", (1,)), ("sinh", (2,)), ("max", (0, 3)), ("cos", (4,)),
                       ("acos", (5,)), ("abs", (6,))), (3.0,), "agree"),
    # ln(x²) at 5e-68 varies on the scale of x: the stencil's slopes jump, so it goes
    # one-sided, and still cannot resolve it; a step below the scale of x does.
    # Now the step search reaches the scale of x (5e-68) and agrees.
    "log singularity far inside the step": (graph(2, ("mul", (1, 1)), ("ln", (2,))), (0.0, 5.137787877960735e-68),
                                            "agree"),
    # √(x²) = |x|: a kink inside smooth operations, no operation's kink test sees it.
    "kink inside smooth operations": (graph(2, ("mul", (1, 1)), ("abs", (2,)), ("sqrt", (3,))), (0.0, 1e-12),
                                      "agree"),
    # tan(acos(0)): a pole in exact arithmetic that rounding moved off the point.
    "pole moved by rounding": (graph(1, ("acos", (0,)), ("tan", (1,))), (0.0,), "undefined in exact arithmetic"),
    # |cos(acos(x))| at 0 is exactly |x|, at its kink; in floats cos(acos(0)) = 6.1e-17.
    # Was "rounding"; now the kink is found (within its rounding error of 0, and no
    # precision separates it), and the sides −1, 1 come from the high-precision differences.
    "kink moved by rounding": (graph(1, ("acos", (0,)), ("cos", (1,)), ("abs", (2,))), (0.0,), "not differentiable"),
    # The same kink under max (max(x, |cos(acos x)|) = |x|): finite differences' 0 had been
    # called "rounding of f".
    "a kink rounding moved the floats off, under max": (
        graph(1, ("acos", (0,)), ("cos", (1,)), ("abs", (0,)), ("abs", (0,)), ("abs", (0,)), ("abs", (2,)),
              ("max", (0, 6))), (0.0,), "not differentiable"),
    # σ′ = σ(1 − σ) was 0 where σ(386) rounds to 1; the chain multiplies it by 1e168.
    "saturated sigmoid": (graph(1, ("abs", (0,)), ("ln", (1,)), ("abs", (2,)), ("sigmoid", (3,))),
                          (9.304689481996413e-169,), "agree"),
    # ln(cosh(1e-7)) keeps 4% of its value in floats; every method differentiates that.
    "value lost before finite differences": (graph(3, ("cosh", (2,)), ("ln", (3,)), ("pow", (4, 0))),
                                             (0.0, 0.0, 1e-7), "rounding"),
    # (x²)^(x²) at 1e-6: f″ is singular at 0, inside the central step.
    "curvature singular inside the step": (
        graph(2, ("mul", (1, 1)), ("abs", (2,)), ("pow", (3, 3)), ("abs", (4,))), (0.0, 1e-6),
        "agree"),   # was "step too coarse"; the central quotients now show they converge too slowly
    # tan(|acos(0)|) = tan(π/2): a pole, where sympy's 30-digit evalf returned -7.3e93.
    # Its enclosure straddles the pole at every precision: "could not be established".
    "pole the reference must see": (graph(1, ("acos", (0,)), ("abs", (1,)), ("tan", (2,))), (0.0,),
                                    "symbolic value not established"),
    # σ(x1/x3) with x3 = 1e-12: in x1 the function varies on the scale 1e-12.
    "scale set by another variable": (graph(3, ("div", (0, 2)), ("sigmoid", (3,))), (0.0, 0.0, 1e-12),
                                      "agree"),   # likewise (was "step too coarse")
    # softplus(ln x)/|x| = ln(1 + x)/x at 2e-113: −0.5 by cancelling terms of 4.9e112, which
    # sympy's 30-digit evalf missed (it took log(1 + 2e-113) for 0).
    "cancellation inside the reference": (
        graph(2, ("ln", (1,)), ("softplus", (2,)), ("abs", (1,)), ("div", (3, 4))), (0.0, 2.046998921699987e-113),
        "cancellation"),
    # asin(cos(u)) with u = 6.4e-6: cos(u) = 1 − 2e-11 carries a relative rounding error of
    # 5e-6 in 1 − cos u, which asin′ ≈ 1.6e5 magnifies: f is off by ~2e-11, and the central
    # quotient, which assumed ε·|f|, divides that by h = 6e-6 (rel. error 0.29 in ∂/∂x1).
    "rounding of f magnified by asin near 1": (
        graph(3, ("abs", (0,)), ("acos", (0,)), ("div", (1, 4)), ("cos", (5,)), ("abs", (6,)), ("asin", (6,))),
        (0.0, 1e-05, 0.0), "rounding"),
    # softplus of 1.4e28: the complex step's softplus took exp(1.4e28) and overflowed.
    "complex step through a huge softplus": (
        graph(1, ("cosh", (0,)), ("sinh", (1,)), ("pow", (2, 2)), ("add", (3, HALF)), ("softplus", (3,))),
        (2.0,), "agree"),   # was "finite-difference error": the central step search now resolves it
    # ln(cos(acos(x))) at x = −1.2e-38 is ln x, not real; in floats cos(acos(x)) = 6.1e-17 > 0.
    "domain entered by rounding": (graph(1, ("abs", (0,)), ("abs", (0,)), ("acos", (0,)), ("cos", (3,)), ("ln", (4,))),
                                   (-1.175494351e-38,), "undefined in exact arithmetic"),
    # (x²)^x at 1e-6: f′ = f·(2 ln|x| + 2) is singular at 0, inside the central stencil; the
    # quotients at h, 2h, 4h move by the same 1.37 each time, so the estimate |d1 − d2|/3
    # (which assumes they converge as h²) was 0.46 for an error of 1.63. Now the slow
    # convergence is seen, and a one-sided stencil with a step below x agrees.
    "log-singular derivative inside the stencil": (
        graph(1, ("abs", (0,)), ("mul", (0, 0)), ("abs", (2,)), ("pow", (2, 0)), ("abs", (4,)), ("abs", (0,)),
              ("abs", (6,)), ("abs", (0,)), ("add", (4, HALF))), (1e-06,), "agree"),
    # acos(ln(x2/x3)) at x2 = x3 = 1e-20: the complex step's h = 1e-20·max(1, |x|) was as
    # large as x2 itself, and its answer 0.3% off with an estimate of ε·|f′|; now h = 1e-20·|x|.
    "complex step as large as x": (graph(3, ("div", (1, 2)), ("ln", (3,)), ("abs", (4,)), ("abs", (0,)),
                                            ("abs", (0,)), ("acos", (4,))), (0.0, 1e-20, 1e-20),
                                   "agree"),   # was "finite-difference error" (central); now resolved
    # atan(|x2/max(x1, x2)|) at (−2.6e-177, −1.7e-187): every stencil in x2 crosses the
    # divisor's zero or max's tie; the quotients do not converge, an infinite error
    # estimate, which must not pass for an explanation.
    "no stencil converges": (graph(2, ("abs", (1,)), ("abs", (0,)), ("abs", (0,)), ("abs", (0,)), ("max", (0, 1)),
                                      ("abs", (0,)), ("abs", (7,)), ("abs", (0,)), ("div", (1, 6)), ("abs", (10,)),
                                      ("atan", (11,))), (-2.6198502107800277e-177, -1.6891809049912348e-187),
                             "agree"),   # was "pole nearby": steps below 1e-187 now converge
    # tan(tan(acos(6.4e-283))): tan of 1.6e282 in exact arithmetic; the float program took
    # tan of 1.6e16. The check's own 340-digit chain rule was not enough to confirm it.
    "tan of tan beyond float precision": (graph(1, ("acos", (0,)), ("tan", (1,)), ("tan", (2,))),
                                          (6.402168400686472e-283,), "rounding"),
    # log(|x|, cos(cos(x + (2|x|)^(2|x|)))) at 1.86 varies on a scale of 1/600, below
    # Richardson's step of 1.4e-3: its tableau, and its estimate, meant nothing until it too
    # watched its central quotients converge.
    "Richardson's step too coarse": (
        graph(1, ("abs", (0,)), ("add", (1, 1)), ("pow", (2, 2)), ("add", (0, 3)), ("cos", (4,)), ("cos", (5,)),
              ("abs", (0,)), ("abs", (0,)), ("abs", (0,)), ("abs", (9,)), ("abs", (0,)), ("log", (11, 6))),
        (1.8557195132058997,), "agree"),   # was "finite-difference error": central now resolves it
    # asin(acos(σ(e³))): sympy's evalf gave 0 for it (it is 6.15e-5) at every precision, so
    # the check of the finite-difference stencil in exact arithmetic saw f = 0 at both points.
    "sympy's evalf of asin(acos(…)) near 1": (graph(1, ("exp", (0,)), ("sigmoid", (1,)), ("acos", (2,)),
                                                     ("asin", (3,))), (3.0,), "rounding"),
    # relu(min(ln(acos(sin x)), ½) + ½) at 0: printing the derivative's Heaviside for mpmath
    # sent sympy's lambdify into its inequality solver, which raised.
    "Heaviside in the derivative": (graph(1, ("sin", (0,)), ("acos", (1,)), ("ln", (2,)), ("min", (3, HALF)),
                                          ("add", (4, HALF)), ("relu", (5,))), (0.0,), "agree"),
    # tanh(ln √x2) at 1e-290: the derivative (1 − tanh²)/(2·x2) cancels to exactly 0 at 40
    # and 160 digits; the two zeros agreed, and the reference was 0 instead of 2.
    "zero by cancellation at two precisions": (
        graph(2, ("abs", (1,)), ("abs", (0,)), ("abs", (0,)), ("sqrt", (1,)), ("abs", (0,)), ("abs", (0,)),
              ("abs", (7,)), ("ln", (5,)), ("tanh", (9,))), (0.0, 1e-290), "agree"),
    # sympy raised while evaluating this graph's derivative instead of returning.
    "sympy at a tie": (graph(3, ("min", (0, 2)), ("acos", (3,)), ("min", (4, 0)), ("abs", (5,))), (2.0, 0.0, 0.0),
                       "agree"),
    # log(x2, cos(max(acos(sin(asin x1)), x3))) at (0, 1, 0): the base is cos(π/2) = 0 exactly
    # (6e-17 in floats), so f is undefined at the exact point; no enclosure of π/2 decides it.
    "logarithm to an exact base 0": (
        graph(3, ("abs", (0,)), ("asin", (0,)), ("sin", (4,)), ("acos", (5,)), ("max", (6, 2)), ("cos", (7,)),
              ("log", (1, 8))), (0.0, 1.0, 0.0),
        # Now the base is found within rounding of log's domain edge, and the one-sided
        # derivatives cannot be established either: inconclusive.
        "one-sided derivatives not established"),
    # log(x1, cos(acos x2)) at (1, 0): sympy writes ln x1/ln x2, and ln 0 is undefined (sympy's
    # own arithmetic folds 1/ln 0 to 0; the check looks at every subexpression).
    "logarithm to base cos(acos(0))": (
        graph(2, ("abs", (0,)), ("abs", (0,)), ("abs", (0,)), ("acos", (1,)), ("cos", (5,)), ("log", (0, 6))),
        # Now the base is found within rounding of log's domain edge: inconclusive.
        (1.0, 0.0), "one-sided derivatives not established"),
    # cos(π/2·cos x2) at x2 = 3.6e-215 is 6e-430 > 0; at 340 digits the oracle's ln of it came
    # out complex. Forward and reverse mode differ by rounding (the float cos is 6e-17).
    "a node 1e-430 above 0": (
        graph(2, ("cos", (1,)), ("abs", (2,)), ("asin", (0,)), ("sin", (4,)), ("acos", (5,)), ("mul", (6, 2)),
              ("cos", (7,)), ("log", (1, 8))), (0.0, 3.595656692874804e-215), "rounding"),
    # max(|acos x|, acos x) at 0: a tie for every x; sympy's derivative has Heaviside(|acos x| −
    # acos x), whose argument no enclosure shows to be 0 ("could not be established").
    "a tie of identical subexpressions": (graph(1, ("acos", (0,)), ("abs", (1,)), ("max", (2, 1))), (0.0,),
                                          "kink or infinite partial, differentiable"),
    # A node the output does not depend on, ln(sinh(x^(4031511/4194304))²), kept sympy busy for
    # 23 s (its polynomial gcd of degree 4194304); only the nodes the outputs depend on are built.
    "sympy slow on a dead node": (
        Graph(("x1",), tuple(Node(op, args) for op, args in (
            ("pow", (0, Const(0.9611871242523193, Fraction(4031511, 4194304), "0.9611871242523193"))),
            ("min", (1, 1)), ("sinh", (1,)), ("mul", (3, 3)), ("sqrt", (0,)), ("ln", (4,)),
            ("mul", (6, Const(2.0, Fraction(2), "2.0"))), ("div", (0, 6)), ("ln", (5,)))), (9,)),
        (0.020124546851167935,), "agree"),
    # x·x underflows to 0 at 2.2e-313, so √ has an infinite partial in floats only; exactly
    # acos(√(x·x)) = acos(x), derivative −1 from both sides (the analysis said left 0).
    "an infinite partial made by underflow": (graph(1, ("mul", (0, 0)), ("sqrt", (1,)), ("acos", (2,))),
                                              (2.2250738585e-313,), "infinite partial, AD cannot give it"),
    # acos(x₁/c) with x₁/c = 0.99999998: finite differences at a step of 1e-44 are off by
    # 1e-6 relative, within their estimate, whose rounding and truncation parts are alike:
    # "rounding of f" was claimed, and the same stencil in exact arithmetic is as far off.
    "an estimate whose parts are alike is no proof of rounding": (
        Graph(("x1", "x2", "x3"), (
            Node("div", (0, Const(-3.299748100114994e-34, Fraction(-7186215, 21778071482940061661655974875633165533184),
                                  "-3.299748100114994e-34"))),
            Node("softplus", (3,)), Node("softplus", (0,)), Node("acos", (3,))), (6,)),
        (-3.2997480511114824e-34, -0.5046411790541914, 0.12638257879749304), "rounding"),
    # min(cosh(√x), x) at 0: min reads x there, but √x is undefined for x < 0, so f is
    # too; the left side was given as 1 (the branch not read was taken for undetermined,
    # not undefined), and sympy's limit over Min took 37 s.
    "a branch not read that leaves its domain": (
        graph(2, ("sqrt", (0,)), ("cosh", (2,)), ("min", (3, 0))), (0.0, 0.0), "not differentiable"),
    # acos(cos(t))/acos(cos(t)) + 0.5 at t = 1.9e-196: cos(t) rounds to 1, so the float
    # program divides 0 by 0; exactly it is t/t + ½ = 1.5, defined.
    "defined exactly, not in floats": (
        graph(2, ("abs", (1,)), ("cos", (2,)), ("acos", (3,)), ("div", (4, 4)), ("add", (5, HALF))),
        (0.0, 1.8609135522783926e-196), "defined exactly, not in floats"),
    # max(m, x2), m = max(x1, x2) at (0, 9.5e-148): a tie; along x1, m = x2 until x1
    # passes 9.5e-148, so the right derivative is 0 (the oracle's step of 1e-40 once
    # crossed that kink). Found as max(m, m), which is now m: no kink of the function.
    "a kink closer than the oracle's step": (graph(2, ("max", (0, 1)), ("max", (2, 1))), (0.0, 9.483804843587813e-148),
                                             "differentiable at a kink; a convention or stencil misses it"),
    # log(a, a) with a = acos(x^x) at x = 2.7e-235: x^x rounds to 1, so a is 0 and the float
    # program takes log base 0; exactly a ≈ 3.5e-116 and f = max(1, ½) = 1 (the oracle's
    # exact x^x of that rational did not finish).
    "an exact power the oracle could not take": (
        Graph(("x1", "x2", "x3"), (Node("pow", (2, 2)), Node("acos", (3,)), Node("log", (4, 4)),
                                   Node("max", (5, HALF))), (6,)),
        (0.0, 0.0, 2.6903312472904075e-235), "defined exactly, not in floats"),
    # x^|x| − atan(x^|x|) at 1e-300: x^|x| is 1 in floats near the point, so finite
    # differences at a step of 4.5e-306 see a constant (0, within their estimate of 1e290);
    # the oracle's exact stencil needed 346 digits, not 40, to see f change.
    "an exact stencil that needs the step's digits": (
        graph(1, ("abs", (0,)), ("abs", (1,)), ("pow", (0, 2)), ("atan", (3,)), ("abs", (4,)), ("sub", (3, 4))),
        (1e-300,), "rounding of f"),      # (the outcome's name now follows the explanation)
    # max(acos(log(|x|, x) − x), x) at 2.1e-167: 1 − x is 1 in floats, so acos gives 0 and
    # max reads x; exactly acos(1 − x) ≈ √(2x) = 6.5e-84 > x, and f′ = 1/√(2x − x²) ≈
    # 1.54e83 (the one-sided sides were given as 1, from the piece the floats selected).
    "a piece the floats select and the exact values do not": (
        graph(1, ("abs", (0,)), ("log", (1, 0)), ("sub", (2, 0)), ("acos", (3,)), ("max", (4, 0))),
        # Finite differences see the float function, in which 1 − x is 1: rounding of f
        # (confirmed by the exact stencil), no longer the kink's "stencil across a kink".
        (2.0952241513617057e-167,), "rounding of f"),
    # tan(relu(acos(x₂))) with √(min(tan(cosh(x₂)), x₁)) unused, at x₁ = x₂ = 4.3e-187: the
    # unused √ left its domain at x₁ − h, which sent finite differences to a one-sided
    # stencil whose rounding on f ≈ 1.6e16 gave −786432; nodes no output reads are no
    # longer evaluated.
    "a dead node's domain": (
        Graph(("x1", "x2"), (Node("cosh", (1,)), Node("tan", (2,)), Node("softplus", (3,)), Node("min", (3, 0)),
                             Node("sqrt", (5,)), Node("neg", (6,)), Node("acos", (1,)), Node("relu", (8,)),
                             Node("tan", (9,))), (10,)),
        (4.3461638096502113e-187, 4.3461638096502113e-187), "rounding"),
    # max(x3, tan(x3) + x1) at x3 = 3.1e-62: a tie in floats only, broken by x3³/3 ≈ 1e-185;
    # ∂/∂x1 = 1 from both sides. The oracle's step (1e-40 of x3) crossed the change of piece.
    "a tie broken by a cube": (
        Graph(("x1", "x2", "x3"), (Node("tan", (2,)), Node("add", (3, 0)), Node("max", (2, 4)), Node("abs", (5,)),
                                   Node("abs", (6,)), Node("abs", (7,))), (8,)),
        (0.0, 0.0, 3.097459394783378e-62), "differentiable at a kink; a convention or stencil misses it"),
    # relu(√(−x)) at 0: √(−0.0) is −0.0 in floats, whose partial 1/(2·−0.0) is −∞, and relu's
    # kink rule max(−∞, 0) gave a left derivative of 0; it is −∞ (the quotient is −1/√t).
    "a negative zero": (graph(1, ("neg", (0,)), ("sqrt", (1,)), ("relu", (2,))), (0.0,), "not differentiable"),
    # 2·max(|m|, m) with m = min(a, sin(atan(a))), a = asin(x1) at 1e-12: max ties for every
    # m > 0, so f′ = 2m′ (both pieces). sympy's Heaviside(|Min(…)| − Min(…)) is exactly 0;
    # proving it needs |Min(…)| → Min(…) → a/√(a² + 1) in turn, and one pass stopped at the
    # first, so the symbolic value was "could not be established".
    "a decided node inside a decided node": (
        graph(2, ("asin", (0,)), ("atan", (2,)), ("sin", (3,)), ("min", (2, 4)), ("abs", (5,)), ("max", (6, 5)),
              ("min", (7, 7)), ("div", (8, HALF))),
        (1e-12, 1e-12), "kink or infinite partial, differentiable"),
    # tan(|c^c|) with c = max(cosh x, cosh x) at 3: max(v, v) is v, no kink; c^c ≈ 1.3e10
    # carries a rounding error of about 4e-5, so forward mode's 4.87314e11 is off by 1.8e-5
    # (rounding, within its bound 7.8e7), not by a kink convention. The one-sided sides
    # had been that float sweep, off by 1.8e-5; and finite differences' error at h =
    # 6.8e-14 was called "rounding of f" though exact arithmetic at the same points is
    # further off (the truncation part is larger than the error).
    "a tie of a node with itself, and a periodic function of a rounded argument": (
        graph(1, ("abs", (0,)), ("cosh", (0,)), ("max", (2, 2)), ("pow", (3, 3)), ("abs", (4,)), ("abs", (0,)),
              ("abs", (4,)), ("tan", (7,))),
        (3.0,), "rounding"),
    # √(cos(acos(|x|))) at 0: exactly √|x| (one-sided derivatives ±∞), but cos(acos(0)) is
    # 6.1e-17 in floats, so the sweep gave ±6.4e7. Its rounding bound is infinite, the
    # high-precision differences cannot show √'s argument is not negative at the point:
    # the sides are "could not be established", and the verdict inconclusive.
    "a singular point that rounding moved the floats off": (
        graph(1, ("abs", (0,)), ("abs", (0,)), ("acos", (2,)), ("cos", (3,)), ("sqrt", (4,))),
        (0.0,), "one-sided derivatives not established"),
    # max(max(sin x1, x1), x2) at x1 = x2 = 1.1e-35: sin x1 < x1 by x1³/6 (2e-71 relative),
    # so the inner max is exactly x1 and the outer one a true tie: ∂⁺/∂x1 = 1. Interval max
    # compared its ends rounded to 53 bits, took sin's enclosure, and called the tie broken.
    "interval ends compared in 53 bits": (
        graph(2, ("abs", (1,)), ("abs", (0,)), ("sin", (0,)), ("max", (4, 0)), ("max", (5, 1))),
        (1.1392614833705481e-35, 1.1392614833705481e-35), "not differentiable"),
    # |x2·x2/x2| at x2 = 6.3e-187: x2·x2 underflows to 0, so the float sweep's quotient rule
    # gives 2 − 0 = 2; exactly f = |x2|, ∂/∂x2 = 1. The rounding bound now counts underflow
    # (Higham's η) and abs's partial of size 1 on its kink, so the sweep is not trusted.
    "an underflow the sweep's quotient rule cannot see": (
        graph(2, ("abs", (1,)), ("abs", (2,)), ("abs", (0,)), ("mul", (1, 1)), ("div", (5, 1)), ("max", (6, 6)),
              ("abs", (7,))),
        (0.0, 6.29518969462162e-187), "differentiable at a kink; a convention or stencil misses it"),
    # cos(max(x1, x2)) at 0: f″ jumps (0 on the left, −1 on the right), so the central
    # quotient is −h/4 ≈ −2.3e-8 against 0; within finite differences' own estimate, but
    # the cause is the kink, and no better difference method resolves it.
    "a stencil across a kink, within its own estimate": (
        graph(2, ("max", (0, 1)), ("cos", (2,))), (0.0, 0.0),
        "differentiable at a kink; a convention or stencil misses it"),
    # √(cos(acos x)²) at 0 is |x| (sides −1, 1); in floats cos(acos 0) = 6.1e-17 and √'s
    # argument is 3.7e-33, off its domain edge by less than its rounding error (found by a
    # new user's trial: the reference had been 0, sympy's sign(0)).
    "a domain edge rounding moved the floats off": (
        graph(1, ("acos", (0,)), ("cos", (1,)), ("pow", (2, Const(2.0, Fraction(2), "2"))), ("sqrt", (3,))), (0.0,),
        "not differentiable"),
    # σ((x2 − (x3 − tanh x1))/x3²) at x2 = x3 = 1.2e-38, x1 = 1.4e-99: x3 − tanh x1 is x3 in
    # floats, so f does not depend on x1 in floats; f′ = σ′/x3² = 1.8e75. Finite differences'
    # miss was called "step too coarse" (no step resolves it): it is rounding of f.
    "a value lost, not a step too coarse": (
        graph(3, ("mul", (2, 2)), ("ln", (3,)), ("tanh", (4,)), ("tanh", (0,)), ("sub", (2, 6)), ("sub", (1, 7)),
              ("div", (8, 3)), ("sigmoid", (9,))),
        (1.4333791235072934e-99, 1.1754943508222875e-38, 1.1754943508222875e-38), "rounding of f"),
    # cosh(cosh(x1^x3)) at (0, 0, 0.936): sympy's formula has no value at x1 = 0, and its
    # limit with x3 = 8431…/9007… (the float, exactly) ran out of memory: no limit is taken
    # over a rational with a numerator or denominator above 1,000.
    "a limit over a float exponent": (
        Graph(("x1", "x2", "x3"), (Node("pow", (0, 2)), Node("add", (0, Const(1.5, Fraction(3, 2), "1.5"))),
                                   Node("div", (1, Const(1.5, Fraction(3, 2), "1.5"))), Node("atan", (2,)),
                                   Node("mul", (2, 6)), Node("cosh", (3,)), Node("cosh", (8,))), (9,)),
        (0.0, 0.0, 0.9360591900789519), "not differentiable"),
    # |tanh(ln|x|)| at 2: sympy's derivative holds sign(tanh(conjugate(log(Abs(x1))))), and the
    # certified evaluator did not know conjugate (of a real value, the value itself).
    "sympy's conjugate": (graph(1, ("abs", (0,)), ("abs", (0,)), ("ln", (1,)), ("tanh", (3,)), ("abs", (4,))),
                          (2.0,), "agree"),
    # tan(ln(ln(cosh x))) at 0.0058, near a pole of tan (f′ = 1.02e8): the central step of
    # 5.9e-9 is off by 211, 1.5 times the truncation estimate (141) and well inside the
    # rounding one (1,328); exact arithmetic at the same points is as far off, so it is no
    # "rounding of f" (now: only beyond twice the truncation part).
    "rounding of f claimed near the truncation part": (
        graph(1, ("cosh", (0,)), ("ln", (1,)), ("abs", (2,)), ("ln", (2,)), ("tan", (4,))),
        (0.005787061614524802,), "rounding"),
    # acos(cosh(acos(cosh x2))) and sin(tanh(sinh(asin|exp(sinh x2)|))) at the origin: sympy's
    # formula has no value there, and its limit did not finish in 40 s; a limit is now taken
    # only over sums, products, powers, exp and log (x^y·ln x at (0, 2)).
    "a limit over nested functions": (
        graph(2, ("cosh", (1,)), ("acos", (0,)), ("acos", (2,)), ("cosh", (4,)), ("acos", (5,))), (0.0, 0.0),
        "not differentiable"),
    "another limit over nested functions": (
        graph(2, ("sinh", (1,)), ("exp", (2,)), ("abs", (3,)), ("asin", (4,)), ("sinh", (5,)), ("abs", (0,)),
              ("tanh", (5,)), ("sin", (8,))), (0.0, 0.0), "not differentiable"),
    # max(x, tan(asin(cos(x − x)))) at 0: tan(π/2) exactly, 1.6e16 in floats; sympy refuses
    # to build max(x, zoo), which the oracle did not expect. The tool: inconclusive.
    "sympy's max of zoo": (
        graph(1, ("sub", (0, 0)), ("abs", (0,)), ("abs", (0,)), ("cos", (1,)), ("max", (4, 4)), ("asin", (5,)),
              ("tan", (6,)), ("max", (0, 7))), (0.0,), "one-sided derivatives not established"),
    # relu(cos(x2) − x3^x2) at (1/3, −2.2e-313, 1/3): a tie; proving the Heaviside argument 0 by
    # sympy's exact evaluation at the point's rationals (a denominator of 2^1074) took
    # minutes: that evaluation now takes small rationals only.
    "an exact evaluation at a float's rational": (
        Graph(("x1", "x2", "x3"), (Node("pow", (2, 1)), Node("cos", (1,)), Node("sub", (3, 4)), Node("relu", (5,))),
              (6,)),
        (0.3333333333333333, -2.2250738585e-313, 0.3333333333333333),
        "differentiable at a kink; a convention or stencil misses it"),
    # max(x, |asin(sin x)|) at 7.6e-298: asin(sin x) = x exactly, a tie no enclosure shows, and
    # sympy's Heaviside(x − asin(sin x)) could not be decided; its derivative is 1 whichever
    # way the tie goes, and that is now established (each sign tried).
    "a step function whose value does not matter": (
        graph(1, ("sin", (0,)), ("asin", (1,)), ("abs", (2,)), ("max", (0, 2))), (7.616250262844473e-298,),
        "kink or infinite partial, differentiable"),
    # ||acos(cos x1)|| at 0 is |x1|: sides −1, 1. The oracle's quotient at a step of 1e-586
    # needed twice the step's digits (cos h = 1 − h²/2 under acos), not once.
    "an oracle step that acos(cos) squares": (
        graph(2, ("cos", (0,)), ("abs", (0,)), ("acos", (2,)), ("abs", (0,)), ("abs", (5,)), ("abs", (0,)),
              ("abs", (0,)), ("abs", (4,)), ("abs", (9,))), (0.0, 3.490975795638221e-69), "not differentiable"),
    # |tan(|acos(max(x, tan x))|)| at 3.1e-139: the oracle's search for an exact kink met sympy
    # raising ValueError as it simplified (a Max of a complex rewrite).
    "sympy's simplify raising in the oracle": (
        graph(1, ("abs", (0,)), ("tan", (0,)), ("max", (0, 2)), ("acos", (3,)), ("abs", (0,)), ("tan", (4,)),
              ("abs", (6,))), (3.1116731686404512e-139,), "rounding"),
    # ||max(x2, cos(acos x2))|| at (0, −0.59375), a tie: Richardson could not compute where the oracle
    # asked it to confirm a finite-difference error; the claim is then checked against
    # finite differences' own estimate.
    "no better difference method": (
        graph(2, ("abs", (0,)), ("acos", (1,)), ("cos", (3,)), ("max", (1, 4)), ("abs", (5,)), ("abs", (6,))),
        (0.0, -0.59375), "finite-difference error"),
    # acos(|x1^x2|) at (5.7e-254, 5.7e-254) (x1·x2 unused): the oracle's exact stencil met a point
    # where f could not be established, and crashed.
    "an exact stencil point not established": (
        graph(2, ("mul", (0, 1)), ("pow", (0, 2)), ("abs", (3,)), ("acos", (4,))),
        (5.7070367700188784e-254, 5.7070367700188784e-254), "domain edge"),
    # x1^c, c = asin(cos x2)^0.1 ≈ 1.046, at 0: right derivative 0 (the oracle's quotient
    # t^0.046 at t = 1e-40 is still 0.014: it now skips a quotient that has not converged);
    # on the left a negative base to a power no integer is in the enclosure of: undefined
    # (it was "may be ≤ 0", unresolved, since c is not exact).
    "a negative base to an inexact non-integer power": (
        Graph(("x1", "x2", "x3"), (Node("cos", (1,)), Node("abs", (0,)), Node("asin", (3,)),
                                   Node("pow", (5, Const(0.1, Fraction(3602879701896397, 36028797018963968), "0.1"))),
                                   Node("pow", (0, 6))), (7,)),
        (0.0, 0.0, 0.0), "not differentiable"),
    # atan(|x|/1.4e-45) at 0: sides ±7.1e44. The oracle's step of 1e-40 was far beyond the
    # scale the constant sets; its scale now counts constants.
    "a constant that sets a tiny scale": (
        Graph(("x1",), (Node("abs", (0,)), Node("div", (1, Const(1.401298464324817e-45, Fraction(1, 2 ** 149),
                                                                 "1.401298464324817e-45"))),
                        Node("atan", (2,))), (3,)),
        (0.0,), "not differentiable"),
    # min(sin(cosh(e^(2x) + ½)), 2) at 2: cosh is 4.4e23, whose ulp (8e6) is beyond sin's
    # period, so sin's float value is lost; finite differences' "rounding of f" is right
    # (a value f depends on is lost), though the exact stencil at their step is no better.
    "a value lost beyond a period": (
        graph(1, ("add", (0, 0)), ("exp", (1,)), ("add", (2, HALF)), ("cosh", (3,)), ("sin", (4,)),
              ("min", (5, Const(2.0, Fraction(2), "2.0")))),
        (2.0,), "rounding"),
    # atan(tan(asin(cos x))) at 8.8e-175: exactly π/2 − |x| (f′ = −1), in floats cos x = 1
    # and f is constant: finite differences' 0 is "rounding of f", though the exact stencil
    # at their step straddles the exact kink at 0 and is no better (tan's value is lost).
    "rounding of f where the exact stencil straddles a kink": (
        graph(1, ("cos", (0,)), ("abs", (0,)), ("asin", (1,)), ("tan", (3,)), ("atan", (4,))),
        (8.784747820609391e-175,), "rounding of f"),
    # max(|atan(cos x)/cos x|, atan(cos x)) at 0: a tie at x = 0 only (cos 0 = 1), touching
    # (both pieces have derivative 0). sympy's Heaviside argument is 0 there by sympy's own
    # exact evaluation at the point, which no enclosure can show.
    "a step function's argument that is 0 at the point only": (
        graph(1, ("cos", (0,)), ("atan", (1,)), ("abs", (0,)), ("div", (2, 1)), ("abs", (4,)), ("max", (5, 2))),
        (0.0,), "kink or infinite partial, differentiable"),
    # x1/max(asin x1, |x2|) at x1 = x2 = 2.8e-85: a tie in floats only (asin x1 exceeds |x2|
    # by x1³/6 ≈ 3.7e-255), so the left derivative is −x1/3 ≈ −9.4e-86; the high-precision
    # differences' steps (1e-95 and below) crossed the piece change and gave 1/x2 = 3.6e84.
    "a piece change closer than every high-precision step": (
        graph(3, ("asin", (0,)), ("abs", (0,)), ("abs", (0,)), ("abs", (1,)), ("max", (3, 6)), ("abs", (0,)),
              ("abs", (8,)), ("div", (0, 7))),
        (2.810602682746854e-85, 2.810602682746854e-85, 0.0), "differentiable at a kink; a convention or stencil misses it"),
    # |max(max(asin(sin|x|), ½), x)| at 0.92: asin(sin x) − x is exactly 0, which no
    # precision decides; sympy's derivative holds Heaviside(x − Max(½, asin(sin|x|))) and
    # Heaviside(asin(sin|x|) − Max(½, x)), one argument and its negation once the decided
    # Max and Abs are replaced. Taken as two, the tries disagreed and the derivative (1)
    # was "not established".
    "two step functions of one undecided argument, under decided Max": (
        graph(1, ("abs", (0,)), ("sin", (1,)), ("asin", (2,)), ("max", (3, HALF)), ("max", (4, 0)), ("abs", (5,))),
        (0.9243122748163737,), "kink or infinite partial, differentiable"),
    # exp(|exp(tan(acos x))|) at −9.6e-293: tan(acos x) is −1.0e292 exactly (1.6e16 in
    # floats, where exp overflows), so f = exp(e^−1e292) = 1. The oracle's 200-digit check
    # took acos x as π/2, tan of it as +1e200, and sympy then never finished exp of exp(1e200).
    "an oracle's digits below the point's scale": (
        graph(1, ("acos", (0,)), ("tan", (1,)), ("exp", (2,)), ("abs", (3,)), ("exp", (4,))),
        (-9.618552462563357e-293,), "defined exactly, not in floats"),
    # sinh(sinh(cosh(x + acos x))) at 0: f′ = 0; the central quotient at h = 6.1e-6 is
    # −4.93e-8, of which truncation (the exact stencil) is −1.95e-8 and rounding of f the
    # rest. "Most of it the rounding error of f" is right; the oracle had asked for the
    # exact stencil to be ten times closer.
    "rounding of f that is most, not all, of the error": (
        graph(1, ("acos", (0,)), ("add", (0, 1)), ("cosh", (2,)), ("sinh", (3,)), ("sinh", (4,))),
        (0.0,), "rounding of f"),
    # max(x1, softplus(asin(tan(log(x3, c)/c)))) with c the float 0.1 (3602879701896397/2^55):
    # sympy's exp simplification built c^c's integer, 5.6e16 digits, and ran out of memory
    # in one C call that no time limit interrupts. c is now a named constant in sympy.
    "a float literal whose power sympy could not build": (
        graph(3, ("log", (2, Const(0.1, Fraction(0.1), "0.1"))), ("div", (3, Const(0.1, Fraction(0.1), "0.1"))),
              ("tan", (4,)), ("asin", (5,)), ("softplus", (6,)), ("max", (0, 7))),
        (0.0, 0.0, 1.0), "agree"),
    # tan(cos x2)/x1 at x1 = x2 = 1e-146: x2 ± h rounds to ±h, so the float central quotient
    # in x2 is 0, where ∂f/∂x2 = −sec²(1)·sin(x2)/x1 = −3.43. "Rounding of f" is right: the
    # rounding of x2 ± h, which the division by x1 magnifies; the oracle's exact stencil at
    # the float points was 0 too, and it is now also taken at the exact points.
    "rounding of the stencil's points": (
        graph(2, ("ln", (1,)), ("asin", (1,)), ("cosh", (3,)), ("cos", (3,)), ("sub", (2, 1)), ("atan", (6,)),
              ("cos", (1,)), ("tan", (8,)), ("div", (9, 0))),
        (1.0081378681590542e-146, 1.0081378681590542e-146), "rounding of f"),
    # acos(|x + 2|) at −3 + 4.4e-16: acos's domain edge is one ulp of x away, so finite
    # differences go one-sided with a step ten times that distance, where f′ is singular:
    # the error is truncation (the exact stencil at the same points is as far off), not
    # "rounding of f", though the estimate's truncation part said otherwise.
    "a step ten times the distance to a singular domain edge": (
        graph(1, ("abs", (0,)), ("abs", (0,)), ("add", (0, Const(2.0, Fraction(2), "2.0"))), ("abs", (3,)),
              ("acos", (4,))), (-2.9999999999999996,), "finite-difference error"),
    # |acos(cos x1)/|x1 + x2|| at (4.4e-84, 0, 0): acos(cos x1) is 0 in floats, x1 exactly,
    # so f is 1 and ∂f/∂x2 = −1/x1 = −2.3e83. Float one-sided differences agreed with the
    # sweep's 0 (they share its rounding), and the high-precision ones started from a step of
    # 6e-11, far above the scale x1 sets, and did not converge ("no finite limit").
    "float differences that share the sweep's rounding": (
        graph(3, ("cos", (0,)), ("acos", (3,)), ("abs", (0,)), ("add", (0, 1)), ("abs", (6,)), ("div", (4, 7)),
              ("abs", (8,))), (4.429736449641182e-84, 0.0, 0.0), "rounding of f"),
    # relu(cosh(tanh u − u)) with u = tan|x2|^c, c the float 0.1, at 0: f ≈ 1 + |x2|^0.6/18,
    # sides −∞ and +∞. The test's own mpmath oracle built f in sympy with c as a rational
    # (3602879701896397/2^55) and ran out of memory; it now names c as adcompare does.
    "an oracle that gave sympy a float literal's rational": (
        graph(2, ("cosh", (1,)), ("abs", (1,)), ("tan", (3,)), ("pow", (4, Const(0.1, Fraction(0.1), "0.1"))),
              ("tanh", (5,)), ("sub", (6, 5)), ("cosh", (7,)), ("relu", (8,))), (0.0, 0.0), "not differentiable"),
    # A rounding explanation is excused where the exact point is a kink; the test's check
    # for that ran sympy's simplify on min(log_u(cos x), cos(x)^x) at x = 0.0254 (a rational
    # with a denominator of 2^58), which did not finish and ran out of memory. Clearly off
    # its kink by sympy's numerical value, it is no longer simplified.
    "an oracle's simplify over a float's rational": (
        graph(1, ("cos", (0,)), ("pow", (1, 0)), ("log", (2, 1)), ("sinh", (3,)), ("min", (3, 2)), ("log", (2, 5)),
              ("add", (6, 5)), ("exp", (7,))), (0.025441168113166768,), "rounding"),
    # atan(x2^(x1/x3)) beside dead nodes at x1 = −1.7, x2 = x3 = −5.8e-71: a negative base
    # to the power 2.9e70; the one-sided oracle's mpmath evaluation of sympy's expression
    # goes complex, and mpmath's complex atan raised OverflowError. The oracle now skips a
    # point it cannot evaluate, as it did for ValueError.
    "an oracle's complex evaluation that overflows": (
        graph(3, ("div", (0, 2)), ("pow", (1, 3)), ("relu", (0,)), ("sqrt", (5,)), ("sqrt", (6,)), ("atan", (4,))),
        (-1.692196973516781, -5.759185188302475e-71, -5.759185188302475e-71), "not differentiable"),
    # atan(acos(|cos x1|)/x3) at x1 = 5e-324, x3 = 3.1e-156: acos(|cos x1|) is |x1| exactly
    # and 0 in floats, so f's floats are constant and finite differences give 0 for
    # ∂f/∂x1 ≈ 1/x3 = 3.2e155: rounding of f. The oracle evaluated cos(5e-324) at 524 digits,
    # where it is 1 (it is 1 − 1.2e-647), and found no value lost.
    "an oracle's digits below a squared coordinate": (
        graph(3, ("abs", (2,)), ("abs", (0,)), ("cos", (0,)), ("abs", (0,)), ("abs", (5,)), ("acos", (7,)),
              ("div", (8, 2)), ("atan", (9,))), (5e-324, 0.0, 3.1093046292866006e-156), "rounding of f"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_found_by_fuzzing(name):
    graph_, point, outcome = CASES[name]
    assert check_agreement(graph_, point) == outcome


def test_stencil_across_a_kink_says_so():
    result = run_method("finite_difference", adcompare.parse("abs(x)"), (1e-8,))
    assert result.jacobian[0, 0] == pytest.approx(1.0, rel=1e-9)
    assert "straddles a kink" in result.details["notes"][0]


def test_complex_step_through_a_power():
    # pow's pole test met complex arguments in the complex step.
    result = run_method("finite_difference", adcompare.parse("x^y + x^-2"), (1.5, 2.5), method="complex-step")
    exact = [2.5 * 1.5 ** 1.5 - 2 * 1.5 ** -3, 1.5 ** 2.5 * np.log(1.5)]
    np.testing.assert_allclose(result.jacobian[0], exact, rtol=1e-14)


def test_saturated_tanh_and_sigmoid_keep_their_derivatives():
    # tanh(20) rounds to 1, so 1 − tanh² gave 0; the exact sech²(20) is 1.7e-17, and
    # relative accuracy is what a chain multiplying it by e^40 needs. Likewise σ′(20).
    import mpmath
    for expression, exact in (("tanh(x)", mpmath.sech(20) ** 2),
                              ("sigmoid(x)", mpmath.exp(-20) / (1 + mpmath.exp(-20)) ** 2)):
        gradient = run_method("reverse", adcompare.parse(expression), (20.0,)).jacobian[0, 0]
        assert gradient == pytest.approx(float(exact), rel=1e-13), expression


def test_symbolic_values_do_not_rely_on_sympys_evalf():
    # asin(acos(1/(1 + exp(−e³)))), written out with mpmath at 50 digits, by hand.
    import mpmath
    with mpmath.workdps(50):
        exact = mpmath.asin(mpmath.acos(1 / (1 + mpmath.exp(-mpmath.exp(3)))))
    result = run_method("symbolic", adcompare.parse("asin(acos(sigmoid(exp(x))))"), (3.0,))
    with mpmath.workdps(50):
        assert abs(result.value[0] - exact) <= mpmath.mpf("1e-28") * exact
