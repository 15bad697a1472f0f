"""What a gradient check found, as data: graded entries, a summary per argument, the report.

Grades (`grade`), after the bands of the CS231n notes on gradient checks ("relative error
> 1e-2 usually means the gradient is probably wrong; 1e-2 > relative error > 1e-4 should
make you feel uncomfortable; 1e-4 > relative error is usually okay for objectives with
kinks … 1e-7 and less you should be happy", https://cs231n.github.io/neural-networks-3/):

- **ok**: |got − expected| ≤ atol + rtol·|expected| (defaults 1e-9 and 1e-7);
- **close**: within atol + 1e-4·|expected| (`CLOSE_RTOL`), but not ok. Likely causes: an ε guard
  in the forward pass that the gradient leaves out (``log(p + 1e-7)``), a gradient computed
  in float32, a running average; it does not fail unless ``strict=True``;
- **wrong**: further off. Only wrong entries fail by default.

When the reference itself carries an error (finite differences, in a black-box check),
every bound is at least twice the reference's error estimate: the verdict is as strict
as the reference allows, and never stricter.

At a kink (the one-sided derivatives of the function differ) the expected value is the
interval between them, and the error is the distance to it.

The report (`GradcheckReport`) is data; `adcompare.render.gradcheck` draws it.
"""

import math
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from .compare import Tolerance

CLOSE_RTOL = 1e-4
"""The 'close' band: an entry within atol + 1e-4·|expected| of the reference, but not ok.
Its absolute part is the check's own atol, so that a small entry with its sign flipped
(4e-7 for −4e-7) is wrong, not close."""

GRADES = ("ok", "close", "wrong")


def failing_grades(strict):
    """The grades that fail a check: wrong, and close too when ``strict``."""
    return ("wrong", "close") if strict else ("wrong",)


def close_band(tolerance):
    """The 'close' tolerance that goes with an 'ok' ``tolerance``: the same atol, rtol 1e-4
    (or the ok rtol, if that is looser)."""
    return Tolerance(max(CLOSE_RTOL, tolerance.rtol), tolerance.atol)


def grade(error, expected, tolerance, reference_error=0.0):
    """'ok', 'close' or 'wrong' for an absolute ``error`` at ``expected`` (a float, or the
    larger magnitude of a kink's two sides). NaN is wrong."""
    if not error <= max(close_band(tolerance).bound(expected), 2.0 * reference_error):
        return "wrong"
    if error <= max(tolerance.bound(expected), 2.0 * reference_error):
        return "ok"
    return "close"


@dataclass(frozen=True)
class Finding:
    """One Jacobian entry ∂y_output/∂x_variable of the user's gradient, graded.

    ``expected`` is the reference value, or (low, high) between the one-sided derivatives at
    a kink; ``reference_error`` the reference's own error estimate (0 for AD and sympy);
    ``confirmed`` what finite differences of the user's code say at this entry, when they
    were computed (for the worst entries of a failure); ``method`` whose value ``got`` is
    ('user', or a back end in a cross-check), with the cross-check's ``explanation`` of a
    mismatch.
    """

    output: int
    variable: int
    expected: object
    got: float
    abs_error: float
    rel_error: float
    grade: str
    reference_error: float = 0.0
    confirmed: object = None
    method: str = "user"
    explanation: str = None

    @property
    def at_kink(self):
        """Whether the expected value is a kink's interval."""
        return isinstance(self.expected, tuple)

    @property
    def excess(self):
        """How far off, for ranking the worst: the relative error (∞ for NaN)."""
        return math.inf if math.isnan(self.abs_error) else self.rel_error


@dataclass(frozen=True)
class KinkEntry:
    """A Jacobian entry at a kink: left and right one-sided derivatives, the subgradient AD
    chose (``chosen``, by ``chosen_by``; None when the function was not traced) and the
    user's value (None without a gradient)."""

    output: int
    variable: int
    left: float
    right: float
    chosen: object
    chosen_by: str
    user: object
    ok: bool


@dataclass(frozen=True)
class ArgumentSummary:
    """One argument's findings: how many entries are wrong and close out of how many, the
    worst finding, and the ``pattern`` of the wrong ones in words (or None)."""

    name: str
    shape: tuple
    entries: int
    wrong: int
    close: int
    worst: Finding
    pattern: str = None


def _simple_ratio(c):
    """c as 'k', '1/k' or '−k' text when it is near a simple ratio, else its digits."""
    for value in (c, 1 / c if c else 0.0):
        if value and abs(value - round(value)) < 1e-9 * abs(value) and abs(round(value)) <= 10_000:
            k = int(round(value))
            return str(k) if value is c else f"1/{k}"
    fraction = Fraction(c).limit_denominator(100)
    if abs(float(fraction) - c) < 1e-9 * abs(c):
        return str(fraction)
    return f"{c:.6g}"


def pattern(expected, got, wrong, close=Tolerance(CLOSE_RTOL, 0.0)):
    """The shape of the wrong entries of one argument, in words, or None.

    ``expected`` and ``got`` have the argument's shape (floats; a kink's midpoint stands for
    its interval), ``wrong`` is the mask of wrong entries. Tried in order: got is the
    transpose of expected; −expected; c·expected (a missing or extra factor such as 1/N);
    0 wherever expected is not; wrong only where expected is 0; one row; one column; every
    entry.
    """
    count, total = int(wrong.sum()), wrong.size
    if not count:
        return None

    def same(a, b):
        return bool(np.all(np.abs(a - b) <= close.bound(b)))

    if expected.ndim == 2 and expected.shape[0] == expected.shape[1] and expected.shape[0] > 1 \
            and same(got, expected.T):
        return "transposed: got equals expectedᵀ"
    if same(got, -expected):
        return "sign flipped: got = −expected" + (" everywhere" if count == total else "")
    norm = float(np.sum(expected * expected))
    if norm > 0 and count > 1:
        c = float(np.sum(got * expected)) / norm
        if c != 0 and same(got, c * expected):
            return f"scaled: got = {_simple_ratio(c)} × expected (a missing or extra factor)"
    if np.all(got[wrong] == 0):
        return f"got 0 where expected is not ({count} of {total})"
    if np.all(expected[wrong] == 0):
        return f"nonzero where expected is 0 ({count} of {total}: a missing mask?)"
    if expected.ndim >= 2 and count > 1:
        rows = {index[0] for index in zip(*np.nonzero(wrong))}
        columns = {index[-1] for index in zip(*np.nonzero(wrong))}
        if len(rows) == 1 and count < total:
            return f"only row {rows.pop()} ({count} of {total})"
        if len(columns) == 1 and count < total:
            return f"only column {columns.pop()} ({count} of {total})"
    if count == total:
        return "every entry"
    return None


@dataclass
class GradcheckReport:
    """What a gradient check found.

    - ``title``; ``arguments`` (`tracing.Argument`, the differentiated ones), ``output_shape``;
    - ``traced``: the `TracedFunction`, or None when the function was checked black-box, with
      ``untraced`` saying why (and ``untraced_where``, the user's line);
    - ``reference``: the method the user's values were held to ('symbolic', 'reverse',
      'finite differences'); ``results``: each method's `Result` (traced checks);
    - ``findings``: every entry compared (`Finding`), ``summaries`` per argument,
      ``kinks`` (`KinkEntry`) and ``kink_sources``;
    - ``directions``: the directional checks made, as (what, expected, got, error allowed,
      grade) rows, the grade 'ok', 'close' or 'wrong'; ``notes``; ``cross_check`` (no user gradient: the methods against each
      other, with ``comparison`` the `compare.Comparison`); ``strict``; ``user_values`` the
      user's gradient as an (m, n) array, ``jacobian_values`` the reference's (the one-sided
      derivatives where they agree at a tie; finite differences in a black-box check);
      ``headline`` a finding that fails the check by itself (a backward that ignores its
      upstream gradient).
    """

    title: str
    arguments: tuple
    output_shape: tuple
    traced: object
    reference: str
    user_title: str
    findings: tuple = ()
    summaries: tuple = ()
    kinks: tuple = ()
    kink_sources: tuple = ()
    results: dict = field(default_factory=dict)
    comparison: object = None
    directions: tuple = ()
    notes: tuple = ()
    cross_check: bool = False
    strict: bool = False
    untraced: str = None
    untraced_where: str = None
    headline: str = None
    jacobian_values: object = None
    user_values: object = None

    @property
    def n(self):
        """Number of variables."""
        return sum(a.size for a in self.arguments)

    @property
    def m(self):
        """Number of outputs."""
        return math.prod(self.output_shape)

    @property
    def failures(self):
        """The findings that fail: wrong ones, and close ones too when ``strict``."""
        return tuple(f for f in self.findings if f.grade in failing_grades(self.strict))

    @property
    def close(self):
        """The findings graded close."""
        return tuple(f for f in self.findings if f.grade == "close")

    @property
    def passed(self):
        """True when nothing failed (and, for a cross-check, every method ran)."""
        if self.headline is not None:
            return False
        if self.failures:
            return False
        return not (self.cross_check and self.comparison is not None and self.comparison.failures)

    @property
    def jacobian(self):
        """The reference Jacobian as floats, shape (m, n) (for check_layer, 1 × n: uᵀJ);
        None where it was not computed entry by entry (a black-box check that passed along
        random directions)."""
        if self.jacobian_values is not None:
            return np.asarray(self.jacobian_values, dtype=float)
        if self.reference in self.results:
            return np.array(self.results[self.reference].jacobian, dtype=float)
        return None

    # Names of entries, as the user's arguments and result have them.
    def variable_label(self, variable):
        """(argument name, index text) of a variable: ('W', '[0, 1]'), ('x', '')."""
        for argument in self.arguments:
            if argument.first_slot <= variable < argument.first_slot + argument.size:
                index = argument.index(variable)
                return argument.name, (f"[{', '.join(map(str, index))}]" if index else "")
        raise IndexError(variable)

    def output_label(self, output):
        """'y' for a scalar result, 'y[1]' (the result's index) for an array."""
        if not self.output_shape:
            return "y"
        index = np.unravel_index(output, self.output_shape)
        return f"y[{', '.join(str(int(i)) for i in index)}]"

    def entry_label(self, output, variable):
        """∂y/∂W[0, 1], or ∂y[1]/∂x for a Jacobian."""
        name, index = self.variable_label(variable)
        return f"∂{self.output_label(output)}/∂{name}{index}"

    def __str__(self):
        from .render.gradcheck import text
        return text(self)

    def text(self, max_rows=None):
        """The report as plain text (`adcompare.render.gradcheck.text`)."""
        from .render.gradcheck import text
        return text(self) if max_rows is None else text(self, max_rows=max_rows)

    def _repr_markdown_(self):
        from .render.gradcheck import markdown
        return markdown(self)

    def _repr_html_(self):
        from .render.gradcheck import html
        return html(self)


WORST_PER_ARGUMENT = 5
"""How many of each argument's worst entries a failure shows (and finite differences of the
user's code confirm)."""


def worst_per_argument(arguments, findings, keep, count=WORST_PER_ARGUMENT):
    """Each argument's ``count`` worst findings among those ``keep(finding)`` accepts, in
    argument order; the failing ones (``keep`` returns 2) before the others (1)."""
    chosen = []
    for argument in arguments:
        own = [f for f in findings if argument.first_slot <= f.variable < argument.first_slot + argument.size
               and keep(f)]
        chosen += sorted(own, key=lambda f: (-keep(f), -f.excess))[:count]
    return chosen


def summarize(arguments, findings, m, strict=False):
    """One `ArgumentSummary` per argument, in argument order (each output of a Jacobian
    counts its entries separately)."""
    summaries = []
    by_variable = {}
    for finding in findings:
        by_variable.setdefault(finding.variable, []).append(finding)
    failing = failing_grades(strict)
    for argument in arguments:
        own = [f for j in range(argument.first_slot, argument.first_slot + argument.size)
               for f in by_variable.get(j, ())]
        if not own:
            continue
        worst = max(own, key=lambda f: (f.grade in failing, GRADES.index(f.grade), f.excess))
        wrong = sum(f.grade == "wrong" for f in own)
        close_count = sum(f.grade == "close" for f in own)
        text = None
        if m == 1 and any(f.grade in failing for f in own):
            ordered = sorted(own, key=lambda f: f.variable)
            shape = argument.shape if argument.shape else (1,)
            expected = np.array([_midpoint(f.expected) for f in ordered]).reshape(shape)
            got = np.array([f.got for f in ordered]).reshape(shape)
            mask = np.array([f.grade in failing for f in ordered]).reshape(shape)
            with np.errstate(all="ignore"):
                text = pattern(expected, got, mask)
        summaries.append(ArgumentSummary(argument.name, argument.shape, len(own), wrong, close_count, worst, text))
    return tuple(summaries)


def _midpoint(expected):
    if isinstance(expected, tuple):
        return (expected[0] + expected[1]) / 2
    return float(expected)
