"""Non-smoothness is a property of the function, not of a node: the one module that
decides it.

At a point where some node is at a kink (abs or relu at 0, max or min at a tie, a traced
comparison decided at a tie) or has an infinite or undefined local partial (√ at 0, the
exponent of 0^y), the question a user asks is about the whole function f: does ∂f/∂xⱼ
exist here, and if not, what are its one-sided derivatives? This module answers it;
the cross-check (`adcompare.compare`), the renderers and gradcheck read the answer and
never decide it again.

The one-sided derivatives are computed exactly, by forward mode on the piecewise-smooth
function (Griewank, "Automatic directional differentiation of nonsmooth composite
functions", Recent Developments in Optimization, LNEMS 429, 1995; Griewank & Walther,
*Evaluating Derivatives*, 2nd ed., SIAM 2008, ch. 14): a *directional* tangent sweep
along d = ±eⱼ propagates ẏ = Σ ∂y/∂uᵢ · u̇ᵢ through smooth nodes and, at a node on its
kink, the operation's one-sided rule from the operation table (|u|′ along u̇ is |u̇|,
max(a, b) at a tie moves as max(ȧ, ḃ)). That gives f′(x; d), and

    right derivative ∂⁺f/∂xⱼ = f′(x; +eⱼ),    left derivative ∂⁻f/∂xⱼ = −f′(x; −eⱼ).

The rule is exact wherever every node is locally Lipschitz. Where a local partial is
infinite or undefined (√ at 0 fed by x², whose tangent is 0 although x² is not
constant), first-order information cannot decide, and the sweep says "undetermined"
rather than guess; those sides are then taken from high-precision one-sided difference
quotients of f itself (`adcompare.reference.numerical_column`: Richardson extrapolation
of certified primal values at 30 digits), or, for a Graph above `PRECISE_LIMIT`
operations, from float one-sided differences. An argument whose partial is exactly 0
because the operation does not depend on it near the point (max(a, b) with a < b, relu
of a negative number) passes no tangent on, not even an undetermined one.

A tie in floats is not always a tie: σ(4.6e-215) rounds to 0.5, so max(σ(x), 0.5) is at a
tie in floats, while exactly σ(x) > 0.5 and f = σ near x. Each node on its kink in floats
is therefore evaluated again over certified enclosures (`adcompare.certified`); where
its exact kink argument is not 0, the sweep takes the branch on the exact side, and the
`Kink` says that rounding made the tie.

Every exact value is confirmed by one-sided differences of f (`confirm`), which share
nothing with the sweep but the primal evaluation: float differences first, and, where
they miss, the high-precision ones.

    >>> from adcompare.parse import parse
    >>> sides = analyse(parse("relu(x) - relu(-x)"), (0.0,))
    >>> sides.entry(0, 0).left, sides.entry(0, 0).right, sides.entry(0, 0).differentiable
    (1.0, 1.0, True)
    >>> sides = analyse(parse("abs(x)"), (0.0,))
    >>> sides.entry(0, 0).left, sides.entry(0, 0).right, sides.entry(0, 0).differentiable
    (-1.0, 1.0, False)
"""

import math
from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from .backends.finite_difference import step_size
from .certified import MAX_DIGITS
from .errors import DomainError
from .formula import Sweep, tangent_rows
from .graph import Const, argument_values, evaluate, quiet, singular_sides
from .ops import MINUS_ONE, ONE, OPERATIONS, kink_argument
from .rounding import error_bounds, float_error_bounds

TOLERANCE = (1e-12, 1e-12)
"""(rtol, atol) within which the left and right derivatives are the same number: both
are exact, computed by two sweeps whose roundings may differ."""

CONFIRM_TOLERANCE = (1e-6, 1e-8)
"""(rtol, atol) within which float one-sided differences confirm an exact one-sided
derivative (finite differences' own default tolerance)."""

PRECISE_DIGITS = 30
"""Digits sought of a high-precision one-sided derivative (`adcompare.reference`)."""

PRECISE_LIMIT = 2_000
"""Operations above which undetermined sides come from float one-sided differences: the
high-precision ones evaluate f over enclosures at tens of steps, each at 50 digits or more."""

EXACT = "directional forward mode"
PRECISE = "high-precision one-sided differences"
FLOAT = "one-sided differences"
UNESTABLISHED = "could not be established"
"""How a side's ``why`` begins where no method could give it: no claim about f."""


@dataclass(frozen=True)
class OneSided:
    """The one-sided partial derivatives of output k in variable j at the point.

    ``left`` = lim_{t→0⁺} (f(x) − f(x − t eⱼ)) / t and ``right`` = lim_{t→0⁺}
    (f(x + t eⱼ) − f(x)) / t, floats; a side is None where it does not exist or could not
    be established, and ``why`` then says which ('f is not defined left of the point',
    'no finite limit', …). ``how`` names the method ('directional forward mode' or
    'one-sided differences'); ``differences`` are the one-sided difference quotients of f
    that confirm it ((left, right), None where not evaluable), and ``confirmed`` whether
    they agree with it within CONFIRM_TOLERANCE. ``swept`` holds the float directional
    sweeps' (left, right) values as computed (NaN where undetermined), whichever side was
    kept: forward mode's float value beside them tells a kink convention from rounding.
    """

    output: int
    variable: int
    left: Optional[float]
    right: Optional[float]
    how: str
    differences: tuple = (None, None)
    confirmed: bool = True
    why: tuple = (None, None)
    swept: tuple = (math.nan, math.nan)

    @property
    def differentiable(self):
        """Whether both sides exist and are the same number: within TOLERANCE when
        `precise`, within CONFIRM_TOLERANCE when taken from float one-sided differences."""
        if self.left is None or self.right is None:
            return False
        rtol, atol = TOLERANCE if self.precise else CONFIRM_TOLERANCE
        return abs(self.left - self.right) <= atol + rtol * max(abs(self.left), abs(self.right))

    @property
    def established(self):
        """False where a side could not be established by any method (its ``why`` begins
        with `UNESTABLISHED`): the entry then says nothing about f's differentiability."""
        return not any(w is not None and w.startswith(UNESTABLISHED) for w in self.why)

    @property
    def exact(self):
        """Whether both sides come from the directional sweeps (exact), not from differences."""
        return self.how == EXACT

    @property
    def precise(self):
        """Whether both sides are known to a float's precision: exact, or high-precision
        one-sided differences (30 digits), not float ones."""
        return self.how in (EXACT, PRECISE)

    @property
    def value(self):
        """The derivative when `differentiable`, else None: the right derivative when
        `precise`, the mean of the two sides when they are float difference quotients
        (their errors then partly cancel)."""
        if not self.differentiable:
            return None
        return self.right if self.precise else (self.left + self.right) / 2

    @property
    def interval(self):
        """(low, high): the one-sided derivatives in order, the range any convention
        (a subgradient, PyTorch's or JAX's choice) may take; None unless both exist."""
        if self.left is None or self.right is None:
            return None
        return min(self.left, self.right), max(self.left, self.right)

    def contains(self, value, rtol, atol):
        """Whether ``value`` lies between the one-sided derivatives, within atol + rtol·scale."""
        low, high = self.interval
        slack = atol + rtol * max(abs(low), abs(high))
        return bool(low - slack <= value <= high + slack)


@dataclass(frozen=True)
class Kink:
    """A node at its kink at the point: its slot, the kink in words ('abs at 0') and the
    convention forward and reverse mode follow there (see `adcompare.ops.KinkRule`).
    ``exact_side`` is 0 for a kink of the exact function, and −1 or +1, the sign of the
    exact kink argument, where only rounding put the node on its kink (the float program
    sees a tie; the function does not). ``hidden``: the reverse, the floats are off the
    kink by less than their rounding error and exactly no precision separates it (the
    methods took the side the floats are on, no convention)."""

    slot: int
    text: str
    convention: str
    exact_side: int = 0
    hidden: bool = False


@dataclass(frozen=True)
class Singular:
    """A node with an infinite or undefined local partial at the point: its slot, the
    argument position, and the partial's value (inf, -inf or nan). ``rounded``: the
    argument is exactly not what it is in floats (x·x = 0 at x = 2.2e-313 by underflow),
    so the partial is infinite in floats only."""

    slot: int
    position: int
    partial: float
    rounded: bool = False


@dataclass(frozen=True)
class Edge:
    """A node whose argument at ``position`` sits on the edge of its domain in floats (the
    base of x^1.5 at 0, asin's argument at 1): moving it one float one way leaves the
    domain, so f may be defined on one side of the point only. ``rounded``: exactly, the
    argument is not on the edge."""

    slot: int
    position: int
    rounded: bool = False


@dataclass
class Analysis:
    """What non-smoothness means at one point for the whole function.

    ``kinks`` (`Kink`), ``singular`` (`Singular`), ``edges`` (`Edge`) and ``hidden``
    (`Hidden`: a domain edge, pole or infinite partial rounding may have moved the floats
    off) are the nodes that made the analysis necessary; ``entries`` maps (output, variable) to `OneSided`; ``sweeps`` holds the
    directional tangent sweeps as traces (`formula.Sweep`, kind 'tangent', seed j, with
    ``direction`` +1 or −1 in ``record``), for a lecturer's slide of the sweep along −eⱼ.
    """

    kinks: tuple
    singular: tuple
    entries: dict = field(default_factory=dict)
    sweeps: tuple = ()
    edges: tuple = ()
    hidden: tuple = ()

    def entry(self, output, variable):
        """The `OneSided` of entry (output, variable), or None where the analysis gives
        none (a one-sided derivative beyond the float range: see `analyse`)."""
        return self.entries.get((output, variable))

    @property
    def not_differentiable(self):
        """The entries where the function is not differentiable, in order."""
        return [e for key, e in sorted(self.entries.items()) if not e.differentiable]


def kinks_at(graph, values, point=None):
    """The live nodes that read a variable and sit on their kink at these values (one
    point). With ``point`` (the floats the values were computed from), each is evaluated
    again exactly (`exact_kink_signs`), and a kink that rounding made carries its exact
    side and says so in its text."""
    found = []
    for slot, kind, side in singular_sides(graph, values):
        if kind == "kink" and np.any(np.real(side) == 0):
            op = OPERATIONS[graph.node(slot).op]
            found.append(Kink(slot, op.kink_text, op.kink_rule.convention))
    if point is None or not found:
        return found
    signs = exact_kink_signs(graph, point, [kink.slot for kink in found])
    return [kink if not signs.get(kink.slot) else
            Kink(kink.slot, f"{kink.text} in floats only (rounding made the tie: exactly, "
                            f"{_exact_side_text(graph, kink.slot, signs[kink.slot])})",
                 kink.convention, signs[kink.slot])
            for kink in found]


@dataclass(frozen=True)
class Hidden:
    """A node whose argument at ``position`` is off ``value``, a point where the operation
    stops being smooth (``what``: 'domain edge', 'pole' or 'infinite partial'), by less
    than its rounding error in floats, while exactly no precision separates it from that
    point (√ of cos(acos x) at 0: 6.1e-17 in floats, 0 exactly). The float program's
    derivatives do not see it."""

    slot: int
    position: int
    value: float
    what: str


def hidden_points(graph, point, values):
    """(kinks, singular points) that rounding may have moved the floats off: live nodes
    off their kink, a domain edge, a pole or an infinite partial in floats, but within the
    first-order error bound of the float program (`adcompare.rounding.float_error_bounds`)
    of it, whose exact argument no precision separates from it (|cos(acos x)| at 0 is
    |6.1e-17| in floats and |x| exactly). The float sweeps cannot see them: the sides come
    from the high-precision differences. Looked for only in a Graph of at most
    `PRECISE_LIMIT` operations, where those can be taken, and only within 10^-3 of the point
    (relative to max(1, |argument|)): the error bound is computed only when some argument
    is that close, so a value rounding has destroyed entirely (tan of 1e38) is not looked
    at here (`adcompare.backends.symbolic.lost_to_rounding` says it is lost). Returns a
    list of `Kink` and a list of `Hidden`."""
    if graph.size - graph.n_inputs > PRECISE_LIMIT:
        return [], []
    errors = None
    candidates = {}          # key → (slot, quantity whose exact sign is sought, what)
    with quiet():
        for slot, op, args, position in _variable_arguments(graph, values):
            node = graph.node(slot)
            real = [float(np.real(a)) for a in args]
            found = []
            if op.kink_rule is not None and position == 0 and np.real(op.kink_side(*args)) != 0:
                found.append(((slot, "kink"), abs(kink_argument(real)),
                              [a for a in node.args if not isinstance(a, Const)], kink_argument, "kink"))
            for value in EDGE_VALUES:
                if real[position] == value or not math.isfinite(real[position]):
                    continue
                what = _singular_at(op, args, position, value)
                if what is not None:
                    found.append(((slot, position, value), abs(real[position] - value), [node.args[position]],
                                  lambda a, p=position, v=value: a[p] - v, what))
            for key, gap, reads, quantity, what in found:
                if gap > 1e-3 * max(1.0, abs(real[position])):
                    continue                  # far from it: no rounding error can be that large
                if errors is None:
                    errors = float_error_bounds(graph, point)[1]
                if gap <= 2 * sum(float(errors[a]) for a in reads):
                    candidates[key] = (slot, quantity, what)
    if not candidates:
        return [], []
    signs = exact_signs(graph, point, {key: (slot, quantity) for key, (slot, quantity, _) in candidates.items()})
    kinks, singular = [], []
    for key, (slot, _, what) in candidates.items():
        if signs.get(key, 0) != 0:
            continue                          # exactly off it, on the side the floats are on
        if what == "kink":
            op = OPERATIONS[graph.node(slot).op]
            kinks.append(Kink(slot, f"{op.kink_text} exactly, or within 10^-{MAX_DIGITS} of it", "the side the floats are "
                                    "on (rounding moved them off the kink by less than its error bound)",
                              hidden=True))
        else:
            singular.append(Hidden(slot, key[1], key[2], what))
    return kinks, singular


def _singular_at(op, args, position, value):
    """What the operation has where argument ``position`` is ``value`` (the others as they
    are): 'pole', 'domain edge', 'infinite partial', or None."""
    moved = list(args)
    moved[position] = value
    if op.pole_side is not None and np.real(op.pole_side(*moved)) == 0:
        return "pole"
    if op.domain is not None and (_on_edge(op, moved, position) or not op.domain(*moved)):
        return "domain edge"
    if _singular_partial(op, moved, position, op.evaluate(*moved)) is not None:
        return "infinite partial"
    return None


def _exact_side_text(graph, slot, sign):
    op = graph.node(slot).op
    if op in ("max", "min"):
        return "the first argument is " + ("larger" if sign > 0 else "smaller")
    return "the argument is " + ("positive" if sign > 0 else "negative")


def exact_kink_signs(graph, point, slots):
    """{slot: the sign (−1, 0 or +1) of the exact kink argument (``kink_side``: the
    argument of abs or relu, a − b of max or min)} for nodes at ``slots``, evaluated over
    certified enclosures at ``point`` (see `exact_signs`)."""
    return exact_signs(graph, point, {slot: (slot, kink_argument) for slot in slots})


def rounded_arguments(graph, point, values, items):
    """The (slot, position) pairs among ``items`` whose argument's exact value differs from
    its float one (``values``): x·x at x = 2.2e-313 is 0 in floats only, so √ there has
    an infinite partial in floats only. Evaluated over certified enclosures at ``point``."""
    from .intervals import exact_value

    def minus_float(slot, position):
        arg = graph.node(slot).args[position]
        return lambda a: a[position] - exact_value(a[position].ctx, float(np.real(values[arg])))

    signs = exact_signs(graph, point, {(slot, position): (slot, minus_float(slot, position))
                                       for slot, position in items})
    return {key for key, sign in signs.items() if sign != 0}


def exact_signs(graph, point, items):
    """{key: the sign (−1, 0 or +1) of an exact quantity} for ``items`` ({key: (slot,
    quantity)}, ``quantity`` a function of the enclosures of the node's arguments),
    evaluated over certified enclosures at ``point`` (floats, taken exactly) with the
    working precision raised as `adcompare.certified.schedule` does; a key whose sign no
    precision settles, or whose arguments are undefined, is left out."""
    from .certified import evaluate_graph, node_arguments, schedule
    from .intervals import Undefined, Unresolved, context, sign_of
    signs, pending = {}, dict(items)
    for working in schedule(17):
        if not pending:
            break
        ctx = context(working)
        values = evaluate_graph(graph, point, ctx, {slot for slot, _ in pending.values()})
        still = {}
        for key, (slot, quantity) in pending.items():
            args = node_arguments(ctx, graph.node(slot), values)
            if any(isinstance(a, ArithmeticError) for a in args):
                continue
            try:
                signs[key] = sign_of(quantity(args), "an exact argument")
            except Unresolved:
                still[key] = (slot, quantity)
            except Undefined:
                continue
        pending = still
    return signs


def _variable_arguments(graph, values):
    """(slot, op, argument values, position) for every argument of a live operation that
    depends on a variable (not a constant), in slot order."""
    live = graph.live
    for slot in range(graph.n_inputs, graph.size):
        if not live[slot]:
            continue
        node = graph.node(slot)
        args = argument_values(node.args, values)
        for position, arg in enumerate(node.args):
            if not isinstance(arg, Const):
                yield slot, OPERATIONS[node.op], args, position


def singular_partials(graph, values):
    """The live local partials with respect to a variable-dependent argument that are not
    finite at these values (one point): `Singular` entries, in slot order."""
    found = []
    with quiet():
        for slot, op, args, position in _variable_arguments(graph, values):
            local = _singular_partial(op, args, position, values[slot])
            if local is not None:
                found.append(Singular(slot, position, local))
    return found


def _singular_partial(op, args, position, value):
    """The local partial with respect to argument ``position`` where it is infinite or
    undefined (±∞ or NaN), or None where it is finite or only overflowed."""
    partial = op.partials[position]
    if partial.kind in (ONE, MINUS_ONE):      # ±1: finite
        return None
    local, overflowed = local_partial(partial, args, value)
    return local if not math.isfinite(local) and not overflowed else None


EDGE_VALUES = (0.0, 1.0, -1.0)
"""Where the operation table's domains end (√ and a power's base at 0, asin and acos at
±1): an argument is checked for an edge only at these values."""


def domain_edges(graph, values):
    """The live nodes with a variable-dependent argument exactly on an edge of their domain
    at these values (one point): `Edge` entries, in slot order."""
    found = []
    with quiet():
        for slot, op, args, position in _variable_arguments(graph, values):
            if op.domain is not None and np.real(args[position]) in EDGE_VALUES and _on_edge(op, args, position):
                found.append(Edge(slot, position))
    return found


def _on_edge(op, args, position):
    """Whether moving argument ``position`` one float either way leaves the domain."""
    for toward in (math.inf, -math.inf):
        moved = list(args)
        moved[position] = np.nextafter(np.real(args[position]), toward)
        if not op.domain(*moved):
            return True
    return False


def local_partial(partial, args, value):
    """(the local partial as a float, whether it overflowed): a partial that is finite but
    beyond the float range (ln′ = 1/u at u = 5e-313) is not an infinite one (√′ at 0), and
    is told apart by numpy's overflow flag; its float is then NaN."""
    with np.errstate(over="raise", divide="ignore", invalid="ignore"):
        try:
            return float(np.real(partial.value(*args, value))), False
        except FloatingPointError:
            return math.nan, True


def chain_rule_failure(graph, values, entry=None):
    """Why an AD sweep gave a derivative that is not finite, or None when no local partial
    is infinite or undefined at these values (one point; then terms overflowed).
    ``entry`` names the Jacobian entry in the message (``∂y/∂x``).

    The message names the first such node and says what JAX and PyTorch do there: the
    same arithmetic gives them ∞ · 0 = NaN, or ±∞, where the function's derivative may
    still exist (√(x²)² at 0: 0).
    """
    from .graph import written_node
    from .render.text import describe_slot
    singular = singular_partials(graph, values)
    if not singular:
        return None
    first = singular[0]
    node = graph.node(first.slot)
    args = argument_values(node.args, values)
    arg = node.args[first.position]
    what = "undefined" if math.isnan(first.partial) else ("∞" if first.partial > 0 else "−∞")
    partial = f"∂{_plain_name(graph, first.slot)}/∂{_plain_name(graph, arg)}"
    where = f"{entry}: " if entry else ""
    return (f"{where}the chain rule meets the local partial {partial} = {what} at "
            f"{describe_slot(graph, first.slot)} ({written_node(graph, first.slot, args)}), and the sweep cannot "
            "pass it (JAX and PyTorch give NaN or ±∞ here too), though f may be differentiable")


def _plain_name(graph, slot):
    from .formula import Var
    from .render.style import quantity_name
    return quantity_name(Var("v", slot), graph)


def directional_sweep(graph, values, direction, exact_sides=None, undetermined=()):
    """f′(x; d): one forward sweep along ``direction`` (one tangent per input) through the
    piecewise-smooth function, exact where every node is Lipschitz.

    Returns (tangents of every slot, the slots where the kink rule was used, the piecewise
    operations that dropped an undetermined tangent of a branch they do not read). A tangent
    is NaN where first-order information cannot decide (an infinite or undefined local
    partial meets a variable-dependent argument, even with a zero tangent) or where the
    direction leaves an operation's domain (asin at 1 moving up): "undetermined"; where a
    live operation leaves its domain, the outputs' tangents are all undetermined, whatever
    reads it.
    ``exact_sides`` ({slot: −1 or +1}) names nodes at a tie in floats only: there the
    branch on the exact side is taken, not the kink rule. At the slots in
    ``undetermined`` (an infinite partial or a domain edge in floats only) a tangent that
    is not finite is undetermined, not infinite.
    """
    exact_sides = exact_sides or {}
    leaves_domain = False     # a live operation leaves its domain along d: f may be undefined there
    dropped = set()           # piecewise operations that dropped an undetermined tangent
    tangents = list(direction)
    # Whether a slot depends on an input that moves at all: one that does not is exactly
    # constant along d, so an infinite partial with respect to it contributes exactly 0.
    moves = [d != 0 for d in direction]
    kinked = set()
    live = graph.live
    with quiet():
        for slot in range(graph.n_inputs, graph.size):
            node = graph.node(slot)
            op = OPERATIONS[node.op]
            moving = [not isinstance(a, Const) and moves[a] for a in node.args]
            moves.append(any(moving))
            if not any(moving):
                tangents.append(0.0)
                continue
            args = argument_values(node.args, values)
            dots = [tangents[a] if still else 0.0 for a, still in zip(node.args, moving)]
            if op.kink_rule is not None and live[slot] and np.real(op.kink_side(*args)) == 0:
                if slot not in exact_sides:
                    tangents.append(float(op.kink_rule.value(*dots)))
                    kinked.add(slot)
                    continue
                args = _on_side(op, args, exact_sides[slot])
            if op.domain is not None and not _stays_inside(op, args, dots):
                tangents.append(math.nan)
                leaves_domain = leaves_domain or live[slot]
                continue
            tangent, finite = 0.0, True
            for dot, partial, still in zip(dots, op.partials, moving):
                if still:
                    local, overflowed = local_partial(partial, args, values[slot])
                    # A piecewise operation off its kink is one smooth piece near the point:
                    # a partial of exactly 0 there means the piece does not read that argument
                    # (the caller checks that the exact values select the same piece).
                    if not (local == 0 and op.kink_rule is not None):
                        tangent += local * dot
                        finite = finite and math.isfinite(local) and math.isfinite(dot) and not overflowed
                    elif not math.isfinite(dot):
                        dropped.add(slot)
            # A tangent that overflowed from finite factors is finite in exact arithmetic:
            # the sweep cannot give it (undetermined), it is not infinite.
            tangents.append(math.nan if (finite or slot in undetermined) and not math.isfinite(tangent)
                            else tangent)
    if leaves_domain:
        # Undefined is not undetermined: max or min not reading the branch that leaves its
        # domain does not make f defined there (min(cosh(√x), x) at 0 from the left).
        for slot in graph.outputs:
            tangents[slot] = math.nan
    return tangents, kinked, dropped


def _on_side(op, args, sign):
    """``args`` with the first moved one float, so that the kink argument has ``sign``:
    the branch the exact values select, where the floats are at a tie."""
    for toward in (math.inf, -math.inf):
        moved = [np.nextafter(args[0], toward), *args[1:]]
        if np.sign(np.real(op.kink_side(*moved))) == sign:
            return moved
    return args


def _stays_inside(op, args, dots):
    """Whether moving each argument one float in its tangent's direction stays inside the
    operation's domain: the direction does not leave it at an edge (√ at 0 moving down)."""
    moved = [np.nextafter(a, math.copysign(math.inf, d)) if d != 0 else a for a, d in zip(args, dots)]
    return bool(op.domain(*moved))


def analyse(graph, point, values=None, confirm=True):
    """The `Analysis` of ``graph`` at ``point`` (floats), or None when the function is smooth
    there (no live node on its kink or on an edge of its domain, and no infinite or
    undefined local partial).

    For each variable j, two directional sweeps (d = +eⱼ and d = −eⱼ) give the one-sided
    derivatives of every output; sides the sweeps leave undetermined come from
    high-precision one-sided differences of f (float ones above `PRECISE_LIMIT`
    operations). With ``confirm``, every side is checked against float one-sided
    differences of f (`one_sided_differences` on the Graph's primal evaluation), and where
    those miss, against the high-precision ones.
    """
    if values is None:
        values = evaluate(graph, point)
    kinks, singular = kinks_at(graph, values, point), singular_partials(graph, values)
    edges = domain_edges(graph, values)
    hidden_kinks, hidden = hidden_points(graph, point, values)
    if not kinks and not singular and not edges and not hidden_kinks and not hidden:
        return None
    kinks = [*kinks, *hidden_kinks]
    rounded = rounded_arguments(graph, point, values, {(e.slot, e.position) for e in (*singular, *edges)})
    singular = [Singular(e.slot, e.position, e.partial, (e.slot, e.position) in rounded) for e in singular]
    edges = [Edge(e.slot, e.position, (e.slot, e.position) in rounded) for e in edges]
    undetermined = {slot for slot, _ in rounded}
    n, m = graph.n_inputs, len(graph.outputs)
    primals = [float(np.real(v)) + 0.0 for v in values]     # + 0.0: −0.0 (√ of −0.0 is −0.0, whose partial is −∞) reads as 0
    exact_sides = {kink.slot: kink.exact_side for kink in kinks if kink.exact_side}
    differences = None
    if confirm or singular:
        differences = one_sided_differences(_primal(graph), point, defined_sides=True)
    precise = _Precise(graph, point)
    entries, sweeps = {}, []
    for j in range(n):
        sides = {}
        for sign in (1.0, -1.0):
            seed = [sign if i == j else 0.0 for i in range(n)]
            tangents, kinked, dropped = directional_sweep(graph, primals, seed, exact_sides, undetermined)
            if hidden or hidden_kinks or dropped and _selection_differs(graph, point, primals, dropped):
                # The floats select another piece than the exact values do (max(acos(1 − x), x)
                # at 2e-167: acos(1 − x) is 0 in floats, 6.5e-84 exactly), or may (a kink that
                # rounding moved the floats off): undetermined.
                for slot in graph.outputs:
                    tangents[slot] = math.nan
            sides[sign] = [tangents[slot] for slot in graph.outputs]
            sweeps.append(Sweep("tangent", j, lambda tangents=tangents, seed=seed, kinked=kinked:
                                tangent_rows(graph, primals, tangents, seed, kink_rules=kinked),
                                record={"direction": sign}))
        for k in range(m):
            one = _one_sided(k, j, sides[1.0][k], -sides[-1.0][k], differences, precise,
                             lambda k, j: error_bounds(graph, point, k, j, {kink.slot for kink in kinks}).derivative)
            # A side finite but beyond the float range (acos(x)/x at 1e-300: −1.6e600) is no
            # float: the entry is left to the methods, which cannot give it either.
            if not any(v is not None and math.isinf(v) for v in (one.left, one.right)):
                entries[(k, j)] = one
    return Analysis(tuple(kinks), tuple(singular), entries, tuple(sweeps), tuple(edges), tuple(hidden))


def _selection_differs(graph, point, primals, slots):
    """Whether, at any of ``slots`` (piecewise operations off their kink in floats), the
    exact kink argument has another sign than the float one, or one no precision settles."""
    signs = exact_kink_signs(graph, point, slots)
    for slot in slots:
        op = OPERATIONS[graph.node(slot).op]
        floats = np.sign(np.real(op.kink_side(*argument_values(graph.node(slot).args, primals))))
        if signs.get(slot) != floats:
            return True
    return False


class _Precise:
    """High-precision one-sided derivatives of f (`adcompare.reference.numerical_column`),
    computed on first demand, one column (variable, side) at a time for all outputs; None
    for a Graph above `PRECISE_LIMIT` operations."""

    def __init__(self, graph, point):
        self.graph, self.point, self.columns = graph, point, {}

    def __call__(self, k, j, side):
        if self.graph.size - self.graph.n_inputs > PRECISE_LIMIT:
            return None
        if (j, side) not in self.columns:
            from .reference import numerical_column
            self.columns[(j, side)] = numerical_column(self.graph, self.point, j, side, PRECISE_DIGITS)
        return self.columns[(j, side)][k]


def analyse_code(function_at, point, kinks):
    """The `Analysis` of a function whose trace cannot see across a branch (the code
    compared values at a tie, so the Graph holds one side only): the one-sided derivatives
    of the function as written, by one-sided differences of ``function_at`` (a function of
    the flat point returning the outputs as an array). ``kinks`` are the `Kink`s that made
    it necessary (a tie in the code, or a node on its kink)."""
    left, right = one_sided_differences(function_at, point, defined_sides=True)
    finer = one_sided_differences(function_at, point, defined_sides=True, step_scale=JUMP_STEP_RATIO)
    entries = {}
    for k, row in enumerate(right):
        for j in range(len(row)):
            sides, why = [left[k][j], right[k][j]], [None, None]
            for side, name in ((0, "left"), (1, "right")):
                coarse, fine = sides[side], finer[side][k][j]
                if coarse is None:
                    why[side] = f"f is not defined {name} of the point"
                elif fine is not None and abs(fine) > JUMP_GROWTH * abs(coarse) + CONFIRM_TOLERANCE[1]:
                    # A quotient that grows as 1/h: f jumps (floor at an integer), no limit.
                    sides[side], why[side] = None, "no finite limit: f jumps here (it is not continuous)"
            entries[(k, j)] = OneSided(k, j, *sides, "one-sided differences of the code as written",
                                       (left[k][j], right[k][j]), True, tuple(why))
    return Analysis(tuple(kinks), (), entries)


JUMP_STEP_RATIO = 1 / 8
"""analyse_code's second step, as a fraction of the first."""

JUMP_GROWTH = 4.0
"""How much a one-sided quotient must grow from the first step to the second (1/8 of it)
to be a jump: at a jump of size J the quotient is about J/h, so it grows 8 times; where
f has a one-sided derivative it stays (to O(h)); where the derivative is infinite as √
(h^−½) it grows √8 ≈ 2.8 times."""


def _one_sided(k, j, right, left, differences, precise=None, sweep_bound=None):
    """The OneSided of one entry from the sweeps' values (NaN: undetermined; ±∞: an
    infinite one-sided derivative), the float one-sided differences ((left, right) lists
    with None where f is undefined at their step), ``precise(k, j, side)``, the
    high-precision one-sided derivative (a `ReferenceValue`, or None where not computed),
    and ``sweep_bound(k, j)``, the first-order bound on the rounding error of the swept
    value (`adcompare.rounding.error_bounds`).

    A finite swept side stands: the sweep moved every operation inside its domain, so f
    is defined on that side (float differences whose step is wider than the distance to a
    domain edge, ln at 1e-8, cannot say otherwise), unless the sweep's own rounding bound
    is wider than `CONFIRM_TOLERANCE` allows and the high-precision differences do not
    confirm it (float ones cannot: they share the rounding): then the floats are not the
    function (tan of c^c at 1.3e10, whose argument carries an error of
    4e-5; √ of cos(acos(|x|)) at 0, 6.1e-17 in floats and exactly 0), and the
    high-precision derivative decides. An undetermined side is the high-precision
    derivative, which shrinks its steps to the point's own scale. A side that no method
    can give is "could not be established", not a claim about f."""
    measured = (None, None) if differences is None else (differences[0][k][j], differences[1][k][j])
    swept = (left, right)
    values, why = [None, None], [None, None]
    how = EXACT
    confirmed = differences is not None
    kept, rounded = [], False       # sides the sweep gave; whether its rounding made one miss
    for side, name, sign in ((0, "left", -1), (1, "right", 1)):
        if math.isnan(swept[side]):
            numerical = precise(k, j, sign) if precise is not None else None
            if numerical is not None:
                how = PRECISE if how != FLOAT else FLOAT
                values[side], why[side] = _from_precise(numerical, name)
            elif measured[side] is None and differences is not None:
                why[side] = f"f is not defined {name} of the point"
            else:
                how = FLOAT
                if measured[side] is not None and math.isfinite(measured[side]):
                    values[side] = measured[side] + 0.0
                else:
                    why[side] = "no finite limit"
        elif math.isinf(swept[side]):
            why[side] = f"infinite ({'+' if swept[side] > 0 else '−'}∞)"
        else:
            values[side] = swept[side] + 0.0      # + 0.0: −0.0 reads as 0
            # Float differences that agree confirm nothing where the sweep's own rounding
            # bound is wide: they share the floats' rounding (|acos(cos x₁)/|x₁ + x₂|| at
            # x₁ = 4.4e-84: acos(cos x₁) is 0 in floats, x₁ exactly, so both give 0 for
            # ∂/∂x₂, which is −1/x₁ = −2.3e83).
            wide = sweep_bound is not None and not _within_rounding(swept[side], sweep_bound(k, j))
            if wide or measured[side] is None or not _close(swept[side], measured[side]):
                # Float differences miss (a feature finer than their step, rounding, a
                # domain edge within it): the high-precision ones decide.
                numerical = precise(k, j, sign) if precise is not None else None
                agrees = numerical is not None and numerical.established and _close(swept[side], float(numerical.value))
                if not agrees and numerical is not None and wide:
                    # The sweep's rounding alone could make it miss: the floats are not f.
                    values[side], why[side] = _from_precise(numerical, name)
                    how, rounded = (PRECISE if how != FLOAT else FLOAT), True
                    continue
                confirmed = confirmed and agrees
            kept.append((side, name, sign))
    if rounded:
        # Both sides from one method: the swept one carries the same rounding, and two
        # sides are compared within TOLERANCE.
        for side, name, sign in kept:
            values[side], why[side] = _from_precise(precise(k, j, sign), name)
        confirmed = differences is not None
    return OneSided(k, j, values[0], values[1], how, tuple(measured), confirmed, tuple(why), swept)


def _from_precise(numerical, name):
    """(value, why) of a side taken from the high-precision derivative ``numerical``."""
    if numerical.established:
        # Within its own error estimate of 0 (e^−(x²+y²) at 0 gives ±1e-58), it is 0.
        return (0.0 if abs(numerical.value) <= numerical.error else float(numerical.value) + 0.0), None
    if numerical.failure == "undefined":
        return None, f"f is not defined {name} of the point"
    if numerical.failure == "unresolved":       # f's exact value: no precision settles it
        return None, f"{UNESTABLISHED} ({numerical.how})"
    return None, f"no finite limit: {numerical.how}"


def _within_rounding(value, bound):
    """Whether a swept value is accurate to `CONFIRM_TOLERANCE` by its rounding bound."""
    rtol, atol = CONFIRM_TOLERANCE
    return math.isfinite(bound) and bound <= atol + rtol * abs(value)


def _close(a, b):
    rtol, atol = CONFIRM_TOLERANCE
    return abs(a - b) <= atol + rtol * max(abs(a), abs(b))


def _primal(graph):
    """f as a function of a flat point: the outputs of the Graph's primal evaluation."""
    def f(x):
        values = evaluate(graph, tuple(float(v) for v in x))
        return np.array([float(values[slot]) for slot in graph.outputs])
    return f


def one_sided_differences(function_at, point, defined_sides=False, step_scale=1.0):
    """Left and right one-sided derivatives, (m, n) each, by second-order one-sided differences.

    ``function_at(x)`` evaluates the function (its float code, not the Graph, which holds
    only the branch the trace took) at a flat point. The step is ε^(1/3)·max(1, |xⱼ|):
    D⁺ = (−3f(x) + 4f(x + h) − f(x + 2h)) / 2h, D⁻ = (3f(x) − 4f(x − h) + f(x − 2h)) / 2h,
    both O(h²) when f is smooth on that side; ``step_scale`` multiplies h.

    With ``defined_sides``, a side where ``function_at`` raises DomainError (f is not
    defined there) gives None entries instead of raising, and the two arrays are lists of
    lists of floats or None.
    """
    point = np.array(point, dtype=float)
    center = function_at(point)
    left = np.zeros((center.size, point.size))
    right = np.zeros_like(left)
    undefined = {}
    for j in range(point.size):
        h = step_size(point[j], "central") * step_scale
        shifted = {}
        for multiple in (-2, -1, 1, 2):
            x = point.copy()
            x[j] = point[j] + multiple * h
            try:
                shifted[multiple] = function_at(x)
            except DomainError:
                if not defined_sides:
                    raise
                undefined[(j, multiple > 0)] = True
                shifted[multiple] = np.full(center.shape, np.nan)
        with np.errstate(all="ignore"):
            right[:, j] = (-3.0 * center + 4.0 * shifted[1] - shifted[2]) / (2.0 * h)
            left[:, j] = (3.0 * center - 4.0 * shifted[-1] + shifted[-2]) / (2.0 * h)
    if not defined_sides:
        return left, right
    return tuple([[None if undefined.get((j, side == 1)) else float(array[k, j]) for j in range(point.size)]
                  for k in range(center.size)] for side, array in ((0, left), (1, right)))
