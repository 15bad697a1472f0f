"""Gradient checks for Python functions and layers, in a test: `gradcheck` and `check_layer`.

The function is traced into a Graph (`adcompare.tracing`), the back ends run on it, and
`adcompare.compare.compare` lines every Jacobian entry up against the best reference,
exactly as for ``adcompare trace``. A hand-written gradient takes part as one more
method, ``"user"``, held to ``rtol``/``atol``; a failure raises `GradcheckError`, an
AssertionError whose message is a table of the wrong entries, naming the worst.

References: symbolic (sympy, high precision) when it runs, else reverse mode. sympy is
run only while variables × operations ≤ `SYMBOLIC_BUDGET` (its cost grows with both;
the 2 × 100 classifier of the seeds has 300 variables and about 900 operations).
Finite differences, which only evaluate the function, confirm the AD reference.

Kinks. Where the function is not differentiable (relu or abs at 0, max with a tie, a
comparison in the code decided at a tie), each method may legitimately return a
different one-sided derivative or subgradient. There left and right one-sided
differences of the function are computed, and an entry whose two sides differ is a
kink: any value between them (within tolerance) passes, including the user's.

    >>> import numpy as np
    >>> report = gradcheck(lambda x: np.sum(x ** 3), np.array([1.0, -2.0]),
    ...                    grad=lambda x: 3 * x ** 2)
    >>> report.passed, report.reference
    (True, 'symbolic')
"""

import math
from dataclasses import dataclass

import mpmath
import numpy as np
from tabulate import tabulate

from .backends import METHODS, Cost, Result, run_method
from .compare import DEFAULT_TOLERANCES, Tolerance, compare
from .errors import InputError
from .graph import evaluate, find_kinks, float_text
from .nonsmooth import one_sided_differences
from .tracing import TracingError, argument_names, as_float_argument, trace_function

DEFAULT_RTOL = 1e-7
DEFAULT_ATOL = 1e-9
"""A correct float64 gradient agrees with AD to about 1e-13 relative; a bug is off by O(1).
These leave six orders of magnitude on either side."""

SYMBOLIC_BUDGET = 5_000
USER = "user"
CHECK_METHODS = ("finite_difference", "symbolic", "reverse")
"""The default reference methods when a gradient is given. Forward mode accumulates the
same local partials as reverse mode, so it adds no independent evidence, and it costs
one sweep per input; pass ``methods=METHODS`` to include it."""

TITLES = {"finite_difference": "finite differences", "symbolic": "symbolic (sympy)",
          "forward": "forward mode", "reverse": "reverse mode", USER: "your gradient"}
MAX_ROWS = 20


class GradcheckError(AssertionError):
    """A gradient check failed. ``report`` is the GradcheckReport (None when the gradient
    could not even be read, e.g. it has the wrong shape)."""

    def __init__(self, message, report=None):
        super().__init__(message)
        self.report = report


@dataclass(frozen=True)
class EntryCheck:
    """One method's value for one Jacobian entry ∂y_output/∂x_variable, and its verdict.

    ``expected`` is the reference value, or the interval (low, high) between the one-sided
    derivatives at a kink; ``tolerance`` says what the value was held to.
    """

    output: int
    variable: int
    method: str
    expected: object
    got: float
    abs_error: float
    rel_error: float
    allowed: float
    tolerance: str
    ok: bool

    @property
    def excess(self):
        """How many times over its allowance the error is (the ranking of "worst")."""
        if math.isnan(self.abs_error):
            return math.inf
        return self.abs_error / self.allowed if self.allowed > 0 else (math.inf if self.abs_error else 0.0)


@dataclass(frozen=True)
class KinkEntry:
    """A Jacobian entry at a kink: left and right one-sided derivatives, the subgradient AD
    chose (``chosen``, by ``chosen_by``) and the user's value (None without a gradient)."""

    output: int
    variable: int
    left: float
    right: float
    chosen: float
    chosen_by: str
    user: object
    ok: bool


@dataclass
class GradcheckReport:
    """What a gradient check found: the traced function, each method's Result, every check.

    ``checks`` holds every value compared (one per method per entry), ``kinks`` the entries
    at a kink, ``kink_sources`` what makes them (``relu at 0 (node 3)``), ``notes`` what the
    reader should know (a method skipped, finite differences off).
    """

    title: str
    traced: object
    results: dict
    comparison: object
    checks: tuple
    kinks: tuple
    kink_sources: tuple
    notes: tuple
    cross_check: bool
    failures: tuple = ()
    user_title: str = "your gradient"

    def method_title(self, method):
        """How a method is named in tables ('reverse mode', 'your gradient')."""
        return self.user_title if method == USER else TITLES[method]

    @property
    def passed(self):
        """True when no check failed (and, for a cross-check, every method ran)."""
        return not self.failures and not (self.cross_check and self.comparison.failures)

    @property
    def reference(self):
        """The method every other one was compared against."""
        return self.comparison.reference

    @property
    def jacobian(self):
        """The reference Jacobian as floats, shape (outputs m, variables n)."""
        return np.array(self.results[self.reference].jacobian, dtype=float)

    # Names of entries, as the user's arguments and result have them.
    def variable_label(self, variable):
        """(argument name, index text) of a graph variable: ('W', '[0, 1]'), ('x', '')."""
        for argument in self.traced.arguments:
            if argument.first_slot <= variable < argument.first_slot + argument.size:
                index = argument.index(variable)
                return argument.name, (f"[{', '.join(map(str, index))}]" if index else "")
        raise IndexError(variable)

    def output_label(self, output):
        """'y' for a scalar result, 'y[1]' (the result's index) for an array."""
        shape = self.traced.output_shape
        if not shape:
            return "y"
        index = np.unravel_index(output, shape)
        return f"y[{', '.join(str(int(i)) for i in index)}]"

    def entry_label(self, output, variable):
        """∂y/∂W[0, 1], or ∂y[1]/∂x for a Jacobian."""
        name, index = self.variable_label(variable)
        return f"∂{self.output_label(output)}/∂{name}{index}"

    # Rendering: one builder of sections, three formats.
    def verdict(self):
        """One line: passed or failed, against what, how many entries."""
        m, n = len(self.traced.graph.outputs), self.traced.graph.n_inputs
        entries = m * n
        reference = self.method_title(self.reference) if self.reference else "nothing"
        if self.failures:
            wrong = len({(c.output, c.variable) for c in self.failures})
            subject = "the methods disagree at" if self.cross_check else f"{self.user_title} is wrong at"
            return f"FAILED: {subject} {wrong} of {entries} entries (reference: {reference})"
        if self.cross_check and self.comparison.failures:
            return f"FAILED: {len(self.comparison.failures)} method(s) could not compute the derivative"
        subject = "all methods agree at" if self.cross_check else f"{self.user_title} agrees at"
        return f"passed: {subject} all {entries} entries (reference: {reference})"

    def sections(self, fmt="simple", max_rows=MAX_ROWS):
        """(title, body) pairs: verdict, failures, kinks, Jacobian, cost, notes."""
        sections = [(self.title, self.verdict())]
        if self.failures:
            sections.append((f"Failing entries ({len(self.failures)})", self.failure_table(fmt, max_rows)))
        if self.kinks:
            sections.append(("Kinks: entries where the function is not differentiable", self.kink_table(fmt)))
        m, n = len(self.traced.graph.outputs), self.traced.graph.n_inputs
        if m > 1 and m * n <= 100:
            sections.append((f"Jacobian ({self.method_title(self.reference)}), {m} outputs × "
                             f"{n} input{'s' if n != 1 else ''}",
                             self.jacobian_table(fmt)))
        if m * n <= max_rows * 3:
            sections.append(("Entries", self.entry_table(fmt)))
        sections.append(("Cost", self.cost_table(fmt) + "\n" + self.cost_lesson()))
        if self.notes:
            sections.append(("Notes", "\n".join(self.notes)))
        return sections

    def failure_table(self, fmt="simple", max_rows=MAX_ROWS):
        """The failing checks: argument, index, expected, got, errors, tolerance (worst first
        when there are more than ``max_rows``)."""
        rows = list(self.failures)
        more = len(rows) - max_rows
        if more > 0:
            rows = sorted(rows, key=lambda c: -c.excess)[:max_rows]
        show_method = self.cross_check
        show_output = bool(self.traced.output_shape)
        table = []
        for check in rows:
            name, index = self.variable_label(check.variable)
            row = [name, index]
            if show_output:
                row.insert(0, self.output_label(check.output))
            if show_method:
                row.append(self.method_title(check.method))
            row += [_expected_text(check.expected), _number(check.got), _error(check.abs_error),
                    _error(check.rel_error), check.tolerance]
            table.append(row)
        headers = (["output"] if show_output else []) + ["argument", "index"] + \
                  (["method"] if show_method else []) + ["expected", "got", "abs error", "rel error", "tolerance"]
        text = _table(table, headers, fmt)
        if more > 0:
            text += f"\n… and {more} more (the {max_rows} largest errors are shown)"
        return text

    def kink_table(self, fmt="simple"):
        """Each kink entry: left and right one-sided derivatives, AD's choice, the user's value."""
        headers = ["entry", "left derivative", "right derivative", "AD chose"]
        with_user = any(k.user is not None for k in self.kinks)
        if with_user:
            headers += [self.method_title(USER), ""]
        rows = []
        for kink in self.kinks:
            row = [self.entry_label(kink.output, kink.variable), _number(kink.left), _number(kink.right),
                   f"{_number(kink.chosen)} ({self.method_title(kink.chosen_by)})"]
            if with_user:
                row += [_number(kink.user), "ok" if kink.ok else "OUTSIDE"]
            rows.append(row)
        text = _table(rows, headers, fmt)
        return text + "\nMade by: " + "; ".join(self.kink_sources)

    def jacobian_table(self, fmt="simple"):
        """The reference Jacobian as a matrix: one row per output, one column per input."""
        graph = self.traced.graph
        rows = [[self.output_label(k)] + [_number(v) for v in row] for k, row in enumerate(self.jacobian)]
        return _table(rows, [""] + list(graph.variables), fmt)

    def entry_table(self, fmt="simple"):
        """Every entry: the reference value and each method's value, and whether it passed."""
        by_entry = {}
        for check in self.checks:
            by_entry.setdefault((check.output, check.variable), {})[check.method] = check
        methods = [self.reference] + [m for m in self.results if m != self.reference]
        rows = []
        for entry in self.comparison.entries:
            key = (entry.output, entry.variable)
            checks = by_entry.get(key, {})
            row = [self.entry_label(*key), _number(entry.reference)]
            row += [_number(checks[m].got) if m in checks else "" for m in methods[1:]]
            row.append("ok" if all(c.ok for c in checks.values()) else "FAILED")
            rows.append(row)
        headers = (["entry", self.method_title(self.reference) + " (reference)"]
                   + [self.method_title(m) for m in methods[1:]] + [""])
        return _table(rows, headers, fmt)

    def cost_table(self, fmt="simple"):
        """Each method's cost: evaluations of f, derivative sweeps, elementary operations."""
        rows = [[self.method_title(name), r.cost.primal_evaluations, r.cost.sweeps, r.cost.operations]
                for name, r in self.results.items() if name != USER and r.error is None]
        return _table(rows, ["method", "evaluations of f", "sweeps", "operations"], fmt)

    def cost_lesson(self):
        """The n-versus-m sentence: forward mode needs n sweeps, reverse mode m."""
        m, n = len(self.traced.graph.outputs), self.traced.graph.n_inputs
        return (f"n = {n} input{'s' if n != 1 else ''}, m = {m} output{'s' if m != 1 else ''}: "
                f"forward mode needs n = {n} sweep{'s' if n != 1 else ''} (one per input), "
                f"reverse mode m = {m} (one per output).")

    def text(self, max_rows=MAX_ROWS):
        """The report as plain text, for the terminal."""
        return "\n\n".join(f"{title}\n{body}" if i else f"{title}: {body}"
                           for i, (title, body) in enumerate(self.sections("simple", max_rows)))

    def __str__(self):
        return self.text()

    def _repr_markdown_(self):
        parts = []
        for i, (title, body) in enumerate(self.sections("pipe")):
            parts.append(f"**{title}**: {body}" if i == 0 else f"**{title}**\n\n{_markdown_body(body)}")
        return "\n\n".join(parts)

    def _repr_html_(self):
        from html import escape
        parts = []
        for i, (title, body) in enumerate(self.sections("html")):
            if i == 0:
                parts.append(f"<p><b>{escape(title)}</b>: {escape(body)}</p>")
            else:
                parts.append(f"<p><b>{escape(title)}</b></p>\n{_html_body(body)}")
        return "\n".join(parts)


def _markdown_body(body):
    # tabulate's pipe tables are kept; other lines become paragraphs.
    return "\n".join(line if line.startswith("|") else f"\n{line}\n" for line in body.split("\n")).strip()


def _html_body(body):
    from html import escape
    lines, out, in_table = body.split("\n"), [], False
    for line in lines:
        if line.startswith("<table") or in_table:
            in_table = not line.startswith("</table>")
            out.append(line)
        else:
            out.append(f"<p>{escape(line)}</p>")
    return "\n".join(out)


def _table(rows, headers, fmt):
    return tabulate(rows, headers=headers, tablefmt=fmt, disable_numparse=True)


def _number(value):
    """A value with all its digits: it is what was compared."""
    if value is None:
        return ""
    if isinstance(value, mpmath.mpf):
        return "0" if value == 0 else mpmath.nstr(value, 17, min_fixed=-5, max_fixed=17)
    value = float(value)
    return float_text(value)


def _error(value):
    if value is None:
        return ""
    if math.isnan(value) or math.isinf(value):
        return repr(value)
    return "0" if value == 0 else f"{value:.1e}"


def _expected_text(expected):
    if isinstance(expected, tuple):
        return f"between {_number(expected[0])} and {_number(expected[1])} (kink)"
    return _number(expected)


def _tolerance_text(tolerance, explanation=None):
    # compare's explanation of a mismatch (a kink, finite differences' own error), if any.
    text = f"{tolerance.rtol:g} rel + {tolerance.atol:g}"
    return f"{text} ({explanation})" if explanation else text


# Reading the user's gradient.
def user_jacobian(returned, traced, what="grad"):
    """The user's gradient (or Jacobian) as an (m, n) float matrix in graph variable order.

    For one argument ``returned`` is one array; for several, a tuple or list with one per
    argument. Each has the shape of the function's result followed by the argument's
    shape (just the argument's shape for a scalar result). Raises GradcheckError for a
    wrong count, a wrong shape or a value that is not a number.
    """
    arguments = traced.arguments
    if len(arguments) == 1 and not (isinstance(returned, tuple) and len(returned) == 1):
        parts = [returned]
    else:
        if not isinstance(returned, (tuple, list)) or len(returned) != len(arguments):
            count = len(returned) if isinstance(returned, (tuple, list)) else "a single value"
            raise GradcheckError(f"{what} must return {len(arguments)} gradients, one per argument "
                                 f"({', '.join(a.name for a in arguments)}), as a tuple or list; got {count}")
        parts = list(returned)
    m = len(traced.graph.outputs)
    columns = []
    for argument, part in zip(arguments, parts):
        try:
            array = np.asarray(part, dtype=float)
        except (TypeError, ValueError):
            raise GradcheckError(f"{what} returned a {type(part).__name__} for {argument.name}, "
                                 "not an array of numbers") from None
        expected = tuple(traced.output_shape) + tuple(argument.shape)
        if array.shape != expected:
            raise GradcheckError(f"{what} returned shape {array.shape} for {argument.name}; expected {expected} "
                                 f"(the shape of {argument.name}" +
                                 (f", after the result's shape {traced.output_shape})" if traced.output_shape else ")"))
        columns.append(array.reshape(m, argument.size))
    return np.hstack(columns)


def _unflatten(traced, flat):
    """The function's arguments (floats and float arrays) from a flat point."""
    args = []
    for argument in traced.arguments:
        values = np.asarray(flat[argument.first_slot:argument.first_slot + argument.size], dtype=float)
        args.append(float(values[0]) if argument.shape == () else values.reshape(argument.shape).copy())
    return args


def _float_outputs(function, traced, flat):
    result = function(*_unflatten(traced, flat))
    try:
        values = np.asarray(result, dtype=float).reshape(-1)
    except (TypeError, ValueError):
        raise TracingError(f"the function returned a {type(result).__name__} on float arguments") from None
    if values.size != len(traced.graph.outputs):
        raise TracingError(f"the function returned {values.size} values on float arguments but "
                           f"{len(traced.graph.outputs)} when traced")
    return values


def _check_trace_reproduces_function(function, traced):
    # The Graph must compute what the function computes: a cheap guard against code the
    # tracer followed wrongly (or a function that is not deterministic).
    actual = _float_outputs(function, traced, traced.point)
    traced_value = np.array(traced.value)
    if not np.allclose(actual, traced_value, rtol=DEFAULT_RTOL, atol=DEFAULT_ATOL):
        k = int(np.argmax(np.abs(actual - traced_value)))
        raise TracingError(f"the traced Graph does not reproduce the function: output {k} is "
                           f"{traced_value[k]!r} traced but {actual[k]!r} when the function runs on floats "
                           "(is it deterministic?)")


def _methods_to_run(methods, graph, notes):
    methods = (methods,) if isinstance(methods, str) else tuple(methods)
    unknown = [m for m in methods if m not in METHODS]
    if unknown or not methods:
        raise InputError(f"unknown method {unknown[0]!r} (methods: {', '.join(METHODS)})" if unknown
                         else "no methods to check with")
    run = []
    for method in methods:
        if method == "symbolic":
            size = graph.n_inputs * len(graph.nodes)
            if size > SYMBOLIC_BUDGET:
                notes.append(f"symbolic (sympy) skipped: {graph.n_inputs:,} variables × {len(graph.nodes):,} "
                             f"operations is over gradcheck's budget of {SYMBOLIC_BUDGET:,}")
                continue
        run.append(method)
    return run


def _distance_to_interval(value, low, high):
    if math.isnan(value):
        return math.nan
    return max(low - value, value - high, 0.0)


def run_check(function, args, *, names=None, grad=None, rtol=DEFAULT_RTOL, atol=DEFAULT_ATOL,
              methods=None, title=None, grad_title="grad", user_title="your gradient"):
    """The machinery behind `gradcheck` and `check_layer`; returns a GradcheckReport."""
    __tracebackhide__ = True   # pytest shows the failing test and the message, not this frame
    for name, value in (("rtol", rtol), ("atol", atol)):
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
            raise InputError(f"{name} must be a non-negative number, got {value!r}")
    traced = trace_function(function, *args, names=names)
    graph, point = traced.graph, traced.point
    _check_trace_reproduces_function(function, traced)
    notes = []
    if methods is None:
        methods = METHODS if grad is None else CHECK_METHODS
    results = {m: run_method(m, graph, point) for m in _methods_to_run(methods, graph, notes)}
    kinks = find_kinks(graph, evaluate(graph, point)) + [(tie.slot, tie.description) for tie in traced.ties]
    sides = one_sided_differences(lambda x: _float_outputs(function, traced, x), point) if kinks else None
    if grad is not None:
        jacobian = user_jacobian(grad(*_unflatten(traced, point)), traced, grad_title)
        results[USER] = Result(USER, (), jacobian, Cost(0, 0, 0))
    tolerances = {USER: Tolerance(rtol, atol)}
    comparison = compare(results, tolerances, kinks)
    if comparison.reference is None:
        reasons = "; ".join(f"{TITLES[m]}: {e}" for m, e in comparison.failures.items())
        raise GradcheckError(f"no method could compute the derivative at this point ({reasons})")
    checks, kink_entries = _checks(comparison, results, sides, {**DEFAULT_TOLERANCES, **tolerances})
    for method, error in comparison.failures.items():
        notes.append(f"{TITLES[method]} could not be computed: {error}")
    cross_check = grad is None
    failures = [c for c in checks if not c.ok and (cross_check or c.method in (USER, comparison.reference))]
    off = [c for c in checks if not c.ok and c not in failures]
    if off:
        worst = max(off, key=lambda c: c.excess)
        notes.append(f"{TITLES[worst.method]} differ{'s' if worst.method != 'finite_difference' else ''} from "
                     f"{TITLES[comparison.reference]} at {len(off)} entr{'y' if len(off) == 1 else 'ies'} "
                     f"(largest relative error {_error(worst.rel_error)}; tolerance {worst.tolerance}); "
                     "the reference is used")
    report = GradcheckReport(title or f"gradcheck of {_name(function)}", traced, results, comparison,
                             tuple(checks), tuple(kink_entries),
                             tuple(_kink_source(graph, slot, text) for slot, text in kinks),
                             tuple(notes), cross_check, tuple(failures), user_title)
    if not report.passed:
        raise GradcheckError(failure_message(report), report)
    return report


def _name(function):
    return getattr(function, "__qualname__", type(function).__name__)


def _kink_source(graph, slot, text):
    if slot < graph.n_inputs:
        return f"{text}"
    return f"{text} (node {graph.baydin_number(slot)}, {graph.node(slot).op})"


def _checks(comparison, results, sides, tolerances):
    """Every compared value as an EntryCheck; at kinks, held to the one-sided interval."""
    fd = tolerances["finite_difference"]
    checks, kink_entries = [], []
    chosen_by = next((m for m in ("reverse", "forward", "symbolic") if m in results and results[m].error is None),
                     comparison.reference)
    for entry in comparison.entries:
        k, j = entry.output, entry.variable
        at_kink = False
        if sides is not None:
            left, right = float(sides[0][k, j]), float(sides[1][k, j])
            at_kink = abs(right - left) > fd.atol + fd.rtol * max(abs(left), abs(right))
        expected = entry.reference if comparison.reference == "symbolic" else float(entry.reference)
        if not at_kink:
            checks += [EntryCheck(k, j, c.method, expected, c.value, c.abs_error, c.rel_error,
                                  c.tolerance.atol + c.tolerance.rtol * abs(float(expected)),
                                  _tolerance_text(c.tolerance, getattr(c, "explanation", None)), c.ok)
                       for c in entry.checks]
            continue
        low, high = min(left, right), max(left, right)
        values = [(comparison.reference, entry.reference)] + [(c.method, c.value) for c in entry.checks]
        for method, value in values:
            tolerance = tolerances[method] if method != "finite_difference" else fd
            slack = max(fd.atol + fd.rtol * max(abs(low), abs(high)),
                        tolerance.atol + tolerance.rtol * max(abs(low), abs(high)))
            distance = _distance_to_interval(float(value), low, high)
            scale = max(abs(low), abs(high))
            relative = distance / scale if scale else (0.0 if distance == 0 else math.inf)
            checks.append(EntryCheck(k, j, method, (low, high), float(value), distance, relative, slack,
                                     f"within {slack:.1g} of the interval", bool(distance <= slack)))
        user = next((c for c in checks[-len(values):] if c.method == USER), None)
        kink_entries.append(KinkEntry(k, j, left, right, float(results[chosen_by].jacobian[k, j]), chosen_by,
                                      None if user is None else user.got, user is None or user.ok))
    return checks, kink_entries


def failure_message(report, max_rows=MAX_ROWS):
    """The GradcheckError message: the verdict, the worst entry, the table of failing entries."""
    lines = [f"{report.title}: {report.verdict()}"]
    if report.failures:
        worst = max(report.failures, key=lambda c: c.excess)
        who = f"{report.method_title(worst.method)} at " if report.cross_check else ""
        name, index = report.variable_label(worst.variable)
        where = f"{report.output_label(worst.output)} w.r.t. " if report.traced.output_shape else ""
        lines.append(f"worst: {who}{where}{name}{index}: expected {_expected_text(worst.expected)}, "
                     f"got {_number(worst.got)} (abs error {_error(worst.abs_error)}, "
                     f"rel error {_error(worst.rel_error)})")
        lines.append(report.failure_table("simple", max_rows))
    for method, error in (report.comparison.failures.items() if report.cross_check else ()):
        lines.append(f"{report.method_title(method)} could not be computed: {error}")
    if report.kinks:
        count = len(report.kinks)
        lines.append(f"({count} entr{'y' if count == 1 else 'ies'} at a kink checked against the one-sided "
                     "derivatives on either side)")
    return "\n".join(lines)


def gradcheck(f, *args, grad=None, atol=DEFAULT_ATOL, rtol=DEFAULT_RTOL, methods=None):
    """Check the gradient (or Jacobian) of ``f`` at ``args``; return a GradcheckReport.

    With ``grad``, a function taking the same arguments, check what it returns (one
    array per argument, each shaped like its argument, preceded by the result's shape
    for a vector-valued ``f``) against the reference: an entry passes when
    |got − expected| ≤ atol + rtol·|expected|. Without ``grad``, cross-check the four
    back ends on ``f``. ``methods`` chooses the back ends (default: finite differences,
    symbolic and reverse mode with ``grad``, all four without).

    Raises GradcheckError (an AssertionError) naming the wrong entries; TracingError when
    ``f`` cannot be traced.

    >>> W = np.array([[0.1, 0.5], [-0.3, 0.8]])
    >>> report = gradcheck(lambda x: np.sum((W @ x) ** 2), np.array([0.2, 0.4]),
    ...                    grad=lambda x: 2 * W.T @ (W @ x))
    >>> report.jacobian.round(3).tolist()
    [[-0.112, 0.636]]
    """
    __tracebackhide__ = True
    return run_check(f, args, grad=grad, rtol=rtol, atol=atol, methods=methods)


class _UpstreamObjective:
    """s(inputs) = Σₖ uₖ · forward(inputs)ₖ, whose gradient is the vector–Jacobian product uᵀJ.

    u is drawn, seeded, the first time the shape of forward's result is known.
    """

    def __init__(self, forward, seed):
        self.forward = forward
        self.rng = np.random.default_rng(seed)
        self.upstream = None

    def __call__(self, *inputs):
        output = self.forward(*inputs)
        elements = np.asarray(output, dtype=object)
        if self.upstream is None:
            self.upstream = self.rng.standard_normal(elements.shape)
        elif self.upstream.shape != elements.shape:
            raise TracingError(f"forward returned shape {elements.shape}, then {self.upstream.shape}")
        terms = [float(u) * y for u, y in zip(self.upstream.reshape(-1), elements.reshape(-1))]
        total = terms[0]
        for term in terms[1:]:
            total = total + term
        return total


def check_layer(layer, *inputs, seed=0, atol=DEFAULT_ATOL, rtol=DEFAULT_RTOL, methods=None):
    """Check a layer's ``backward`` against the vector–Jacobian product of its ``forward``.

    ``layer.forward(*inputs)`` returns one number or array; ``layer.backward(u)`` takes the
    upstream gradient u (shaped like that result) and returns the gradient for each input
    (one array, or a tuple or list for several inputs). u is drawn from a standard normal
    with ``seed``; the reference uᵀJ comes from reverse mode (and sympy while it is cheap),
    confirmed by finite differences. ``forward`` is called on traced values first, then on
    the inputs as given, just before ``backward``. Returns a GradcheckReport; raises
    GradcheckError naming the wrong entries.

    >>> class Square:
    ...     def forward(self, x):
    ...         self.x = x
    ...         return x * x
    ...     def backward(self, dout):
    ...         return 2 * self.x * dout
    >>> check_layer(Square(), np.array([1.0, -2.0, 3.0])).passed
    True
    """
    __tracebackhide__ = True
    forward, backward = getattr(layer, "forward", None), getattr(layer, "backward", None)
    if not (callable(forward) and callable(backward)):
        raise InputError(f"a {type(layer).__name__} has no forward() and backward() methods to check")
    names = argument_names(forward, len(inputs))
    values = [as_float_argument(name, value) for name, value in zip(names, inputs)]
    objective = _UpstreamObjective(forward, seed)

    def vector_jacobian_product(*arguments):
        forward(*arguments)
        upstream = objective.upstream.copy()   # backward may write into it (seeds' Relu does)
        return backward(upstream if upstream.shape else float(upstream))

    name = type(layer).__name__
    return run_check(objective, values, names=names, grad=vector_jacobian_product, rtol=rtol, atol=atol,
                     methods=methods, grad_title=f"{name}.backward", user_title=f"{name}.backward(u)",
                     title=f"check_layer of {name}: backward(u) against uᵀJ (u seeded with {seed})")
