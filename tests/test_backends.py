"""Back ends, cross-check and report: behaviour beyond the Baydin tables."""

import dataclasses
import math

import numpy as np
import pytest
import sympy

import adcompare
from adcompare.backends import METHODS, run_method
from adcompare.backends.finite_difference import step_size
from adcompare.compare import compare
from adcompare.errors import DomainError, InputError
from adcompare.graph import Graph, Node
from adcompare.ops import OPERATIONS, Partial, TIMES
from strategies import swelling_chain


def test_central_step_is_scaled_to_the_point_and_reported():
    eps = np.finfo(float).eps
    result = run_method("finite_difference", adcompare.parse("x*y"), (0.5, -300.0))
    steps = result.details["steps"]
    assert steps[0] == pytest.approx(eps ** (1 / 3), rel=1e-6)           # max(1, |0.5|) = 1
    assert steps[1] == pytest.approx(eps ** (1 / 3) * 300.0, rel=1e-6)
    assert result.details["method"] == "central"


def test_steps_are_exactly_representable():
    for x in (0.1, 1.0 / 3.0, 12345.678, -7.25):
        for scheme in ("central", "forward"):
            h = step_size(x, scheme)
            assert (x + h) - x == h


def test_difference_formulas_on_x_squared_at_zero():
    # f = x² at 0, step h = ε^(1/2)·1 = 2⁻²⁶ (forward) or ε^(1/3) (central); every
    # operation below is exact in binary. Forward: (h² − 0)/h = h, the O(h) truncation
    # error exactly. Central: (h² − h²)/2h = 0 exactly.
    graph = adcompare.parse("x^2")
    forward = run_method("finite_difference", graph, (0.0,), method="forward")
    central = run_method("finite_difference", graph, (0.0,), method="central")
    assert forward.details["steps"][0] == 2.0 ** -26
    assert forward.jacobian[0, 0] == 2.0 ** -26
    assert central.jacobian[0, 0] == 0.0
    assert forward.cost.primal_evaluations == 2 and central.cost.primal_evaluations == 3


def test_jacobian_of_two_outputs_costs_n_forward_sweeps_and_m_reverse_sweeps():
    # y1 = x1·x2, y2 = sin(x1), y3 = x2 + x3: J = [[x2, x1, 0], [cos x1, 0, 0], [0, 1, 1]].
    report = adcompare.trace("x1*x2, sin(x1), x2 + x3", at=(0.5, 2.0, -1.0))
    expected = np.array([[2.0, 0.5, 0.0], [math.cos(0.5), 0.0, 0.0], [0.0, 1.0, 1.0]])
    for method in METHODS:
        np.testing.assert_allclose(np.array(report.results[method].jacobian, dtype=float), expected,
                                   rtol=1e-9, atol=1e-10)
    assert report.results["forward"].cost.sweeps == 3
    assert report.results["reverse"].cost.sweeps == 3
    assert report.agree


def test_wide_function_reverse_needs_one_sweep_forward_needs_n():
    n = 12
    text = " + ".join(f"x{i}*sin(x{i + 1})" for i in range(1, n))
    report = adcompare.trace(text, at=[0.1 * i for i in range(1, n + 1)], methods=("forward", "reverse"))
    assert report.results["forward"].cost.sweeps == n
    assert report.results["reverse"].cost.sweeps == 1
    assert report.results["reverse"].cost.operations < report.results["forward"].cost.operations / 4
    assert report.agree


def test_deep_chain_of_100000_nodes_without_recursion():
    # s₀ = x, sₖ₊₁ = sin(sₖ); by the chain rule ds_N/dx = Π cos(sₖ) (hand derivation),
    # computed here by an independent loop.
    depth = 100_000
    nodes = tuple(Node("sin", (k,)) for k in range(depth))
    graph = Graph(("x",), nodes, (depth,))
    x = 0.7
    s, derivative = x, 1.0
    for _ in range(depth):
        derivative *= math.cos(s)
        s = math.sin(s)
    for method in ("forward", "reverse"):
        result = run_method(method, graph, (x,))
        assert result.value[0] == pytest.approx(s, rel=1e-12)
        assert result.jacobian[0, 0] == pytest.approx(derivative, rel=1e-9)


def test_long_flat_expression_parses_and_differentiates():
    text = "x" + "+x*y" * 10_000   # f = x + 10⁴·x·y: ∂f/∂x = 1 + 10⁴·y, ∂f/∂y = 10⁴·x
    report = adcompare.trace(text, at=(1.5, 2.0), methods=("reverse", "forward", "finite_difference"))
    assert report.results["reverse"].jacobian[0].tolist() == [1 + 2.0 * 10_000, 1.5 * 10_000]
    assert report.agree


def test_merging_common_subexpressions_keeps_the_derivative():
    plain = adcompare.trace("sin(x)*sin(x) + sin(x)", at=(0.3,))
    merged = adcompare.trace("sin(x)*sin(x) + sin(x)", at=(0.3,), merge_common=True)
    assert len(plain.graph.nodes) == 5 and len(merged.graph.nodes) == 3
    # d/dx (sin² x + sin x) = 2 sin x cos x + cos x
    expected = 2 * math.sin(0.3) * math.cos(0.3) + math.cos(0.3)
    for report in (plain, merged):
        assert report.results["reverse"].jacobian[0, 0] == pytest.approx(expected, rel=1e-15)
        assert report.agree


def test_variable_order_from_mapping_and_from_variables():
    by_mapping = adcompare.trace("a - b", at={"b": 1.0, "a": 5.0})
    assert by_mapping.graph.variables == ("b", "a")
    assert by_mapping.results["reverse"].jacobian[0].tolist() == [-1.0, 1.0]
    explicit = adcompare.trace("a - b", at=(1.0, 5.0, 7.0), variables=("b", "a", "c"))
    assert explicit.results["forward"].jacobian[0].tolist() == [-1.0, 1.0, 0.0]


@pytest.mark.parametrize("at, message", [
    ({"x": 1.0}, "no value given for y"),
    ({"x": 1.0, "y": 2.0, "z": 3.0}, "z"),
    ((1.0,), "2 values needed"),
    ((1.0, 2.0, 3.0), "got 3"),
    ((1.0, float("nan")), "finite"),
    ((1.0, "abc"), "not a number"),
])
def test_missing_or_extra_values_are_input_errors(at, message):
    with pytest.raises(InputError, match=message):
        adcompare.trace("x*y", at=at)


@pytest.mark.parametrize("expression, at, message", [
    ("ln(x1)", (-1.0,), "positive"),
    ("1/x", (0.0,), "nonzero"),
    ("sqrt(x)", (-4.0,), "non-negative"),
    ("asin(x)", (2.0,), r"\[−1, 1\]"),
    ("exp(x)", (1000.0,), "overflow"),
])
def test_domain_errors_name_the_node(expression, at, message):
    with pytest.raises(DomainError, match=message) as error:
        adcompare.trace(expression, at=at)
    assert error.value.node is not None


def test_negative_base_with_constant_integer_exponent_is_fine():
    report = adcompare.trace("x^3", at=(-2.0,))
    assert report.results["reverse"].jacobian[0, 0] == 12.0   # 3·(−2)²
    assert report.agree


def test_kink_is_reported_and_not_called_agreement():
    report = adcompare.trace("abs(x) + relu(y)", at=(0.0, 0.0))
    assert [kink.text for kink in report.comparison.analysis.kinks] == ["abs at 0", "relu at 0"]
    assert not report.agree and report.comparison.verdict.status == "not-differentiable"


@pytest.mark.parametrize("expression, x, exact", [
    ("ln(x)", 1e-9, 1e9),                       # d/dx ln x = 1/x
    ("sqrt(x)", 1e-12, 0.5 / math.sqrt(1e-12)),  # d/dx √x = 1/(2√x)
    ("asin(x)", 1 - 1e-10, 1 / math.sqrt(1 - (1 - 1e-10) ** 2)),
])
def test_finite_differences_at_a_domain_edge_shrink_the_step_and_say_so(expression, x, exact):
    # The base step (6e-6) reaches across the edge; a step below the distance to it does not.
    report = adcompare.trace(expression, at=(x,))
    difference = report.results["finite_difference"]
    assert difference.error is None
    assert "leaves the domain" in difference.details["notes"][0]
    assert difference.details["rows"][0].step < min(x, 1 - x) / 2
    assert difference.jacobian[0, 0] == pytest.approx(exact, rel=1e-6)
    assert report.agree


def test_a_wrong_local_partial_is_caught_by_the_cross_check(monkeypatch):
    # Break sin's partial (−cos instead of cos). Forward and reverse read it; finite
    # differences and sympy do not, so the cross-check must flag both AD modes.
    broken = dataclasses.replace(OPERATIONS["sin"], partials=(Partial(lambda a, y: -np.cos(a), TIMES,
                                                                      OPERATIONS["sin"].partials[0].notation),))
    monkeypatch.setitem(OPERATIONS, "sin", broken)
    report = adcompare.trace("ln(x1)+x1*x2-sin(x2)", at=(2, 5))
    flagged = {(check.method, entry.variable) for entry, check in report.comparison.mismatches}
    assert flagged == {("forward", 1), ("reverse", 1)}
    assert not report.agree


def test_symbolic_derivative_comes_from_sympy_not_from_our_partials(monkeypatch):
    def refuse(*args):
        raise AssertionError("the symbolic back end read a local partial")
    for name in ("ln", "mul", "sin", "add", "sub"):
        op = OPERATIONS[name]
        monkeypatch.setitem(OPERATIONS, name, dataclasses.replace(
            op, partials=tuple(dataclasses.replace(p, value=refuse) for p in op.partials)))
    result = run_method("symbolic", adcompare.parse("ln(x1)+x1*x2-sin(x2)"), (2.0, 5.0))
    assert float(result.jacobian[0, 0]) == 5.5


def test_symbolic_reference_uses_exact_literals():
    # 0.1 typed by the user is the rational 1/10 in the symbolic reference, not the float.
    result = run_method("symbolic", adcompare.parse("x*0.1"), (1.0,))
    assert result.details["derivatives"][0][0] == sympy.Rational(1, 10)


def test_a_large_literal_is_a_named_constant_in_sympy_and_exact_in_the_value():
    # 0.1 as a float is 3602879701896397/2^55: sympy's exp simplification made c^c of it
    # (5.6e16 digits, one C call that ran out of memory). It is a named constant instead,
    # printed as the literal, and its exact value enters only the certified evaluation:
    # ∂(x·c·c)/∂x = c², with c the float 0.1 taken exactly (Fraction below).
    from fractions import Fraction
    from adcompare.graph import Const
    c = Const(0.1, Fraction(0.1), "0.1000000000000000055511151231257827021181583404541015625")
    graph = Graph(("x",), (Node("mul", (0, c)), Node("mul", (1, c))), (2,))
    result = run_method("symbolic", graph, (1.0,))
    derivative = result.details["derivatives"][0][0]
    assert not derivative.atoms(sympy.Rational) - {sympy.Integer(2)}
    assert sympy.sstr(derivative) == f"{c.text}**2"
    import mpmath
    exact = Fraction(0.1) ** 2
    with mpmath.workdps(60):
        assert abs(result.jacobian[0, 0] - mpmath.mpf(exact.numerator) / exact.denominator) < 1e-31
    # The case that ran out of memory, now in a second.
    c = Const(0.1, Fraction(0.1), c.text)
    graph = Graph(("x1", "x3"), (Node("log", (1, c)), Node("div", (2, c)), Node("tan", (3,)), Node("asin", (4,)),
                                 Node("softplus", (5,)), Node("max", (0, 6))), (7,))
    assert run_method("symbolic", graph, (0.0, 1.0)).error is None


def test_the_complex_step_past_a_dead_division_by_zero():
    # cosh(−x) beside a node no output reads, x/relu(x), at x < 0: the rounding bounds of
    # the complex step divided the Python complex x + ih by 0 and raised ZeroDivisionError.
    # f′ = −sinh(−x) = sinh(x) (by hand).
    x = -5.33129951240427e-09
    graph = Graph(("x",), (Node("relu", (0,)), Node("div", (0, 1)), Node("neg", (0,)), Node("cosh", (3,))), (4,))
    result = run_method("finite_difference", graph, (x,), method="complex-step")
    assert result.jacobian[0, 0] == pytest.approx(math.sinh(x), rel=1e-12)


def test_no_user_text_reaches_eval_exec_or_sympify(text_guard):
    marker = "zqmarker"
    report = adcompare.trace(f"ln({marker}) + {marker}*y - sin(y)", at=(2, 5))
    assert report.agree
    assert text_guard == []


def test_report_json_has_the_documented_keys():
    from adcompare.render.json import report_to_dict
    data = report_to_dict(adcompare.trace("ln(x1)+x1*x2-sin(x2)", at=(2, 5)))
    assert {"expression", "variables", "point", "value", "methods", "agree"} <= set(data)
    assert set(data["methods"]) == {"finite_difference", "symbolic", "forward", "reverse"}
    assert data["methods"]["reverse"]["gradient"] == [5.5, 2 - math.cos(5)]
    assert data["value"] == math.log(2) + 10 - math.sin(5)


def test_symbolic_budget_stops_expression_swell_and_gives_the_sizes(monkeypatch):
    from adcompare.backends.symbolic import predicted_size, to_sympy, tree_size
    graph = swelling_chain(10)                  # 60 operations; sympy's tree has thousands
    size = predicted_size(graph)
    # Hand count of sympy's tree: T₀ = 1 (x); one step writes sin(s)·y (3 + T nodes) and
    # ln(1 + s²) (5 + T: s·s is s²) under one Add, so T_{k+1} = 2T_k + 9, T_k = 10·2^k − 9.
    assert size.expression == 10 * 2 ** 10 - 9 == tree_size(to_sympy(graph)[1])
    assert size.depth == 40 and size.operations == 60
    assert size.total > 100_000 and predicted_size(graph) == size        # the same, every time
    # Decided before sympy differentiates anything: the measure, not the clock.
    monkeypatch.setattr(sympy, "diff", lambda *args: pytest.fail("sympy.diff ran"))
    result = run_method("symbolic", graph, (2.0, 0.5), budget=100_000)
    assert result.jacobian is None and result.error_kind == "skipped"
    assert result.error == (
        f"skipped: its predicted size is {size.total:,} nodes, over the symbolic budget of 100,000 "
        f"(--symbolic-budget): the graph's 60 operations unfold to 10,231 nodes in sympy's expression tree, and the "
        f"derivatives sympy builds (of it and of its subexpressions) to at most {size.intermediate:,}, "
        f"{size.derivatives:,} in the 2 it returns")
    monkeypatch.undo()
    # Within the budget it runs, and its sizes as sympy built them are reported.
    smaller = swelling_chain(4)
    result = run_method("symbolic", smaller, (2.0, 0.5), budget=predicted_size(smaller).total)
    assert result.error is None and result.details["sizes"]["expression"] == 10 * 2 ** 4 - 9
    # The other methods still answer, and agree with each other.
    forward, reverse = (run_method(m, graph, (2.0, 0.5)).jacobian for m in ("forward", "reverse"))
    np.testing.assert_allclose(forward, reverse, rtol=1e-13)


def test_symbolic_budget_also_stops_trees_that_swell_beyond_the_prediction(monkeypatch):
    # The prediction is checked against sympy's trees as they are built: here the budget
    # admits the prediction, and sympy's derivative, made to swell, is stopped.
    from adcompare.backends import symbolic
    graph = adcompare.parse("sin(x)*y")
    budget = symbolic.predicted_size(graph).total
    swollen = sympy.Add(*(sympy.Symbol(f"z{i}") for i in range(budget)))
    monkeypatch.setattr(sympy, "diff", lambda expression, x: swollen)
    result = run_method("symbolic", graph, (1.0, 2.0), budget=budget)
    assert result.error_kind == "skipped" and "its derivatives more than" in result.error


def test_a_rational_exponent_counts_its_denominator():
    # sympy handles x^(p/q) through x^(1/q), of degree q: log(sinh(x^(4031511/4194304))²)
    # took it 11 s. The prediction counts q nodes for the exponent, so that one is skipped.
    from adcompare.backends.symbolic import predicted_size
    small, large = (predicted_size(adcompare.parse(f"ln(sinh(x^{c})^2)")) for c in ("0.5", "0.9611871242523193"))
    assert large.expression - small.expression == 10 ** 16 - 2      # q = 10^16 against q = 2
    result = run_method("symbolic", adcompare.parse("ln(sinh(x^0.9611871242523193)^2)"), (0.5,))
    assert result.error_kind == "skipped" and "10,000,000,000,000,0" in result.error


def test_symbolic_budget_is_settable_from_trace_and_the_command_line(capsys):
    report = adcompare.trace_graph(swelling_chain(10), (2.0, 0.5), symbolic_budget=1000)
    assert "over the symbolic budget of 1,000 (--symbolic-budget)" in report.results["symbolic"].error
    assert report.comparison.reference == "reverse"
    # Skipped by policy is not a failure: the methods that ran agree, so the verdict is agree.
    assert report.comparison.verdict.status == "agree" and not report.comparison.failures
    assert "symbolic" in report.comparison.skipped
    assert "symbolic (sympy) was not run (skipped: " in report.render("text")
    from adcompare.cli import main
    for bad in ("0", "-1", "nan", "inf", "1.5", "many"):
        assert main(["trace", "x*y", "--at", "1,2", "--symbolic-budget", bad]) == 2
        assert capsys.readouterr().err.count("\n") == 1
    assert main(["trace", "x*y", "--at", "1,2", "--symbolic-budget", "5"]) == 0
    # x·y: sympy's tree Mul(x, y) is 3 nodes; each derivative at most a product of 2 (y·1).
    assert "symbolic (sympy) was not run (skipped: its predicted size is 9 nodes" in capsys.readouterr().out
    assert main(["trace", "x*y", "--at", "1,2", "--symbolic-budget", "1e4"]) == 0


def test_the_safety_limit_works_in_a_worker_thread_and_leaves_sigalrm_alone():
    import signal
    import threading
    from adcompare.backends.symbolic import OverTime, wall_clock_limit

    def handler(signum, frame):
        pass

    previous = signal.signal(signal.SIGALRM, handler)
    outcome = []

    def work():
        try:
            with wall_clock_limit(0.2):
                while True:             # stopped by the limit, or by the hang guard below
                    pass
        except OverTime:
            outcome.append("stopped")

    try:
        worker = threading.Thread(target=work, daemon=True)
        worker.start()
        worker.join(30)                 # a hang guard, not a timing
        assert outcome == ["stopped"]
        assert signal.getsignal(signal.SIGALRM) is handler
        # A block that ends in time is not interrupted afterwards.
        with wall_clock_limit(0.05):
            pass
        threading.Event().wait(0.2)
    finally:
        signal.signal(signal.SIGALRM, previous)


def test_complex_step_is_exact_to_rounding_at_a_tiny_x():
    # d/dx ln(x) = 1/x: at x = 1e-20 a step of 1e-20 (as large as x) would be 0.3 … % off.
    for text, x, derivative in (("ln(x*x)", 1e-20, 2e20), ("ln(x)", 1e-200, 1e200), ("ln(x*x)", 3.0, 2 / 3),
                                ("ln(x*x)", -7e5, -2 / 7e5)):
        result = run_method("finite_difference", adcompare.parse(text), (x,), method="complex-step")
        assert result.jacobian[0, 0] == pytest.approx(derivative, rel=1e-15)


@pytest.mark.parametrize("expression, point, derivative, how", [
    # 0^y near y = 1 is 0 for every y > 0, so ∂f/∂y = 0; sympy's formula for a real y is
    # 0^y·ln 0 = nan. With y declared positive (true near y = 1), 0^y is 0 and so is ∂f/∂y.
    ("0^y", (1.0,), [0.0], "signs of the variables"),
    # x^y at (0, 2): ∂/∂x = y·x^y/x is 0/0 at x = 0, ∂/∂y = x^y·ln x is 0·(−∞); their limits
    # as x → 0 (y = 2 substituted) are 2x → 0 and x²·ln x → 0, from both sides.
    ("x^y", (0.0, 2.0), [0.0, 0.0], "limit as x → 0"),
])
def test_symbolic_takes_the_value_where_its_formula_has_none(expression, point, derivative, how):
    result = run_method("symbolic", adcompare.parse(expression), point)
    assert result.error is None
    assert [float(v) for v in result.jacobian[0]] == derivative
    assert all(how in text for _, text in result.details["at_the_point"].values())


def test_more_than_64_variables_trace_and_agree():
    # numpy's np.broadcast takes at most 64 arrays: finite differences' evaluation of many
    # points at once broke on 65 variables with a traceback.
    expression = "+".join(f"x{i}*x{i}" for i in range(70))
    report = adcompare.trace(expression, at=tuple(float(i) for i in range(70)))
    # ∂/∂xᵢ Σ xₖ² = 2xᵢ, by hand.
    assert report.results["reverse"].jacobian[0].tolist() == [2.0 * i for i in range(70)]
    assert report.comparison.verdict.status == "agree"
    assert report.results["finite_difference"].error is None


def test_methods_paying_once_per_variable_are_skipped_over_their_budget():
    # 4,000 variables: forward mode would make 4,000 tangent sweeps of 7,999 slots, finite
    # differences a step search per variable over points of 4,000 coordinates. Both are
    # skipped by size (n × slots = 31,996,000 > 10⁷), not by the clock, and the verdict does
    # not count them: reverse mode, one sweep, still answers.
    from adcompare.backends import PER_VARIABLE_BUDGET, skipped_for_size
    graph = adcompare.parse("+".join(f"x{i}" for i in range(4000)))
    assert graph.n_inputs * graph.size == 4000 * 7999 > PER_VARIABLE_BUDGET == 10_000_000
    assert skipped_for_size("reverse", graph) is None and skipped_for_size("symbolic", graph) is None
    assert skipped_for_size("forward", graph, budget=4000 * 7999) is None
    report = adcompare.trace_graph(graph, tuple(1.0 for _ in range(4000)))
    for method in ("forward", "finite_difference"):
        result = report.results[method]
        assert result.error_kind == "skipped" and result.jacobian is None
        assert result.error.startswith("skipped: 4,000 variables × 7,999 slots = 31,996,000, over the budget of "
                                       "10,000,000")
        assert method in report.comparison.skipped
    assert report.results["reverse"].jacobian[0].tolist() == [1.0] * 4000      # ∂(Σxᵢ)/∂xⱼ = 1
    assert report.comparison.verdict.status != "disagree"
    assert "forward mode was not run (skipped: 4,000 variables" in report.render("text")


def test_symbolic_prediction_memory_is_linear_in_the_variables():
    # Each slot's set of variables is a bit set of n bits; kept for every slot (and 1 << i
    # made for every input up front) a sum of 20,000 variables held n²/16 bytes = 25 MB of
    # them (59 MB at the peak). Dropped after each slot's last reader: a few MB (the lists of
    # per-slot counts, 40,000 entries each). tracemalloc's peak is deterministic here.
    import tracemalloc
    from adcompare.backends.symbolic import predicted_size
    graph = adcompare.parse("+".join(f"x{i}" for i in range(20000)))
    tracemalloc.start()
    try:
        size = predicted_size(graph)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # Hand count: x0 + x1 + … is one Add of 20,000 symbols, 39,999 nodes as a chain of binary
    # sums; each of the 20,000 derivatives is 1.
    assert size.expression == 39_999 and size.derivatives == 20_000
    assert peak < 12 * 2**20
