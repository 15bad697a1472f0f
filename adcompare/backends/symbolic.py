"""The symbolic reference: sympy differentiates the whole expression with its own rules.

The sympy expression is built from the Graph node by node through each operation's
sympy counterpart (never from the user's text, and never from our local partials),
differentiated with ``sympy.diff``, and its value and derivatives are *certified* at the
point (`adcompare.certified`): interval arithmetic over sympy's expression tree, with the
point's float values taken exactly, the precision raised until each enclosure is narrower
than 10^-digits relative (``digits`` = 30 by default). A value that cannot be established
that way (up to `adcompare.certified.MAX_DIGITS` digits) is reported as such, never
guessed. The other methods are compared against these values.

Whether the method runs is decided by the size of the work, before sympy starts: the
Graph unfolded into sympy's expression tree and a chain-rule bound on its derivatives'
trees (`predicted_size`), in nodes, against ``budget``; then by the sizes sympy's trees
really reach as it goes. The same input gives the same decision on any machine. A
wall-clock limit (`wall_clock_limit`, no signals) remains only as a safety net.

Over many points (numpy arrays, see `adcompare.backends`), the same derivatives are turned
into numpy functions by ``sympy.lambdify`` (with dummy argument names: no user text is
ever compiled) and evaluated in float64 over the arrays; ``details["precision"]`` then
says "float64" (for one point it is "high").

    >>> from adcompare.parse import parse
    >>> result = run(parse("ln(x1) + x1*x2 - sin(x2)"), (2.0, 5.0))
    >>> result.details["derivatives"][0]
    (x2 + 1/x1, x1 - cos(x2))
"""

import ctypes
import math
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import sympy

from ..graph import Const, point_shape, point_text, quiet
from ..certified import certify_graph, certify_sympy, needed_slots, postorder, small_rational
from ..ops import OPERATIONS
from . import Cost, Result

_NAMED_CONSTANTS = {"pi": sympy.pi, "e": sympy.E}


def to_sympy_constant(const, constants=None):
    """The exact sympy value of a literal; with ``constants`` (a dict), a literal beyond
    `adcompare.certified.SYMPY_RATIONAL` is a named constant instead, a real Symbol of the
    literal's sign printed as its text, and ``constants`` maps it to its exact value (a
    Fraction), which enters only the certified evaluation. sympy does number theory on the
    rationals it holds: exp's own simplification turns c·ln c into ln(c^c), and for a
    float's rational (0.1 is 3602879701896397/2^55) c^c has 5.6e16 digits, one C call that
    no time limit can interrupt and that ran out of memory
    (max(x1, softplus(asin(tan(log(x3, 0.1)/0.1)))) with 0.1 a float)."""
    if not isinstance(const.exact, Fraction):
        return _NAMED_CONSTANTS[const.exact]
    exact = const.exact
    if constants is None or small_rational(exact):
        return sympy.Rational(exact.numerator, exact.denominator)
    name = const.text or repr(float(exact))
    symbol = sympy.Symbol(name, **_sign_assumption(exact))
    while constants.get(symbol, exact) != exact:      # two literals printed alike, of different values
        name += "′"
        symbol = sympy.Symbol(name, **_sign_assumption(exact))
    constants[symbol] = exact
    return symbol


def slot_expressions(graph, needed=None, point=None, constants=None):
    """The variables' symbols and one sympy expression per slot, built from the Graph (for
    the slots marked in ``needed`` only, None for the others, when it is given); with
    ``constants`` (a dict), large literals are named constants (`to_sympy_constant`).

    With ``point``, each variable whose value there is not 0 is declared positive or
    negative: that holds in a neighbourhood of the point, where derivatives are decided,
    and lets sympy simplify what it cannot for every real (0^y is 0 for y > 0)."""
    symbols = [sympy.Symbol(name, **_sign_assumption(None if point is None else point[i]))
               for i, name in enumerate(graph.variables)]
    expressions = list(symbols)
    for slot, node in enumerate(graph.nodes, graph.n_inputs):
        if needed is not None and not needed[slot]:
            expressions.append(None)
            continue
        # A folded constant (Const.slot set) is that slot's own exact expression.
        args = [expressions[a.slot] if isinstance(a, Const) and a.slot is not None
                else to_sympy_constant(a, constants) if isinstance(a, Const) else expressions[a] for a in node.args]
        expressions.append(OPERATIONS[node.op].to_sympy(*args))
    return symbols, expressions


def _sign_assumption(value):
    if value is None or value == 0 or not math.isfinite(float(value)):
        return {"real": True}
    return {"positive": True} if value > 0 else {"negative": True}


def to_sympy(graph, point=None, constants=None):
    """The variables' symbols and one sympy expression per output, built from the Graph
    (only from the nodes the outputs depend on: sympy can take long over a node that
    changes nothing); with ``point``, symbols signed as `slot_expressions` says; with
    ``constants`` (a dict, filled), large literals named (`to_sympy_constant`)."""
    symbols, expressions = slot_expressions(graph, needed_slots(graph), point, constants)
    return symbols, [expressions[slot] for slot in graph.outputs]


LIMIT_SIZE = 100
"""The largest derivative (nodes of sympy's tree) whose limit is taken where substituting
the point gives no value; and none with a piecewise function in it (_PIECEWISE), over which
sympy's limit took 37 s for min(cosh(√x), x) at 0."""
_PIECEWISE = (sympy.Min, sympy.Max, sympy.Abs, sympy.Heaviside, sympy.sign, sympy.Piecewise)
LIMIT_FUNCTIONS = (sympy.log, sympy.exp)
"""The only functions a formula whose limit is taken may hold, besides sums, products and
powers (x^y·ln x at (0, 2)): sympy's limit of acos(cosh(acos(cosh x)))′ at 0 did not
finish in 40 s."""


def _at_the_point(graph, point, failed, digits):
    """{(k, j): (Certified, formula, how)} for the entries in ``failed`` whose formula has no value at
    the point (sympy's 0^y·ln 0 for ∂(0^y)/∂y): differentiated again with the variables'
    signs at the point as assumptions (true near it: 0^y = 0 for y > 0), and otherwise the
    limit of the formula as one variable approaches its value with the others substituted
    (x^y·ln x at (0, 2): the limit as x → 0 from both sides, 0), where sympy finds both
    one-sided limits finite, real and equal. Neither is proof that the value is the
    derivative (a limit of the partial is not the partial unless it is continuous there):
    the one-sided analysis at such a point (`adcompare.nonsmooth`) is the reference the
    cross-check holds it to."""
    found = {}
    constants = {}
    symbols, outputs = to_sympy(graph, point, constants)
    exact = [sympy.Rational(float(v)) for v in point]
    for k, j in failed:
        try:
            d = sympy.diff(outputs[k], symbols[j])
        except _SYMPY_ERRORS:
            continue
        certified = certify_sympy([d], {**dict(zip(symbols, point)), **constants}, digits)[0]
        if certified.established:
            found[(k, j)] = (certified, d, "differentiated again with the signs of the variables at the point as "
                                           "assumptions (they hold near it)")
            continue
        if tree_size([d]) > LIMIT_SIZE or d.has(*_PIECEWISE) \
                or any(not isinstance(f, LIMIT_FUNCTIONS) for f in d.atoms(sympy.Function)):
            continue        # sympy's limit can take minutes over piecewise or nested functions
        if not all(map(small_rational, [*exact, *d.atoms(sympy.Rational)])) or d.free_symbols & set(constants):
            continue            # x1^(8431…/9007…) (a float, exactly): sympy's limit ran out of memory
        for i, symbol in enumerate(symbols):
            rest = d.subs({t: exact[m] for m, t in enumerate(symbols) if m != i})
            if rest.has(sympy.nan, sympy.zoo):
                continue
            try:
                sides = [sympy.limit(rest, symbol, exact[i], direction) for direction in ("-", "+")]
            except _SYMPY_ERRORS + (NotImplementedError, ValueError):
                continue
            if sides[0] == sides[1] and sides[0].is_real and sides[0].is_finite:
                certified = certify_sympy([sides[0]], {}, digits)[0]
                if certified.established:
                    found[(k, j)] = (certified, sides[0], f"its limit as {symbol} → {float(point[i]):g} from both "
                                                          "sides, the other variables substituted")
                    break
    return found


def lost_to_rounding(graph, point, values, digits=30, threshold=1e-8, max_operations=20_000, constants_only=False):
    """Operation slots whose float value is off its exact value by more than ``threshold``
    relative: (slot, float value, exact value). Where rounding has destroyed a value
    (exp(4e-27) = 1 exactly in floats, so ln of it is 0, not 4e-27), the float program's
    derivative may differ from the exact one however carefully it is accumulated.

    The exact values are certified (`adcompare.certified.certify_graph`: the Graph's
    primal over enclosures, no sympy); a slot whose value cannot be established is left
    out, as are all slots of a Graph over ``max_operations`` operations. Folded constants
    count (acos(tanh(20)) is 0 in floats, 4.1e-9 exactly).

    With ``constants_only``, only the folded constants are looked at: cheap (no variable is
    read), and where one is lost, float methods that agree with sympy confirm nothing."""
    if len(graph.nodes) > max_operations:
        return []
    needed = needed_slots(graph)          # the live slots and the folded constants they read
    slots = [slot for slot in range(graph.n_inputs, graph.size) if needed[slot]]
    if constants_only:
        folded = {a.slot for node in graph.nodes for a in node.args if isinstance(a, Const) and a.slot is not None}
        slots = [slot for slot in slots if slot in folded]
    lost = []
    for slot, exact in zip(slots, certify_graph(graph, point, digits, slots)):
        if not exact.established:
            continue
        error = abs(exact.value - float(values[slot]))
        if error > threshold * abs(exact.value):
            lost.append((slot, float(values[slot]), exact.value))
    return lost


# ----------------------------------------------------------------------------- the budget

DEFAULT_BUDGET = 300_000
"""The symbolic method's budget, in nodes of the expression trees sympy builds: the
expression, and the derivative of each of its subexpressions (a subexpression used twice
counts twice). See `predicted_size`; `benchmarks/symbolic_budget.py` measured what it
admits at under 4 s on a busy 2-core machine."""
MAX_DEPTH = 120     # sympy recurses over expression depth (a nest of 140 sin exhausts Python's stack)
TIME_LIMIT = 120.0  # seconds: the safety net only (`wall_clock_limit`); the budget decides


@dataclass(frozen=True)
class SymbolicSize:
    """The size of the symbolic method's work, predicted from the Graph alone.

    ``expression``: nodes of sympy's expression tree for the outputs (the Graph unfolded:
    a slot read twice is copied twice); ``derivatives``: a bound on the nodes of all m × n
    derivative trees, by the chain rule (each operation's partials as sympy writes them, times
    the trees of their arguments, plus the trees of the arguments' derivatives);
    ``intermediate``: the same bound summed over every operation the outputs depend on, not
    only the outputs: sympy's chain rule builds the derivative of each subexpression on its
    way, and its time follows this sum (a nest of 100 sin has 5,151 derivative nodes but
    builds 176,851). A power with a literal exponent p/q counts q more nodes, in the
    expression and in its partials: sympy's algorithms handle it through x^(1/q), a
    polynomial generator of degree q, and take time in proportion; ``depth``: the longest path from an input to an output, in
    operations. ``total`` is what the budget is compared with."""

    operations: int
    expression: int
    derivatives: int
    intermediate: int
    depth: int

    @property
    def total(self):
        """The expression's nodes and those of every derivative sympy builds: the unit of ``budget``."""
        return self.expression + self.intermediate


_SHAPES = {}


def _shape(name):
    """How sympy writes operation ``name``: (extra nodes, uses of each argument) for its
    value, and for each partial derivative the nodes it adds to a derivative per variable
    (the partial's own, and the product with the argument's derivative; none for a partial
    of 1, which sympy drops), counted once from its sympy counterpart."""
    shape = _SHAPES.get(name)
    if shape is None:
        op = OPERATIONS[name]
        symbols = sympy.symbols(f"a0:{op.arity}", real=True)
        value = op.to_sympy(*symbols)

        def counts(expression):
            uses = [0] * op.arity
            nodes = 0
            stack = [expression]
            while stack:
                e = stack.pop()
                if e in symbols:
                    uses[symbols.index(e)] += 1
                    continue
                nodes += 1
                stack.extend(e.args)
            return nodes, tuple(uses)

        def chain_rule_term(partial):
            if partial == 1:
                return 0, (0,) * op.arity
            if partial.is_Number:
                return 2, (0,) * op.arity          # the number and the product
            nodes, uses = counts(partial)
            return nodes + 1, uses

        shape = _SHAPES[name] = (counts(value), tuple(chain_rule_term(sympy.diff(value, x)) for x in symbols))
    return shape


def _exponent_denominator(op, args):
    """q for a power whose exponent is a literal rational p/q, else 1."""
    if op != "pow" or not isinstance(args[1], Const) or not isinstance(args[1].exact, Fraction):
        return 1
    return args[1].exact.denominator


_TWO = Const(2.0, Fraction(2), "2")
_FAMILIES = {"add": "Add", "sub": "Add", "mul": "Mul", "div": "Mul", "neg": "Mul"}
_SAME_ARGUMENTS = {"mul": "pow", "add": "mul"}


def predicted_size(graph):
    """The size of the symbolic method's work on ``graph``, from one pass over it (no sympy
    expression is built): a `SymbolicSize`. Deterministic: the same Graph gives the same
    sizes on any machine. Python integers, so an exponential swell is counted exactly.

        >>> from adcompare.parse import parse
        >>> size = predicted_size(parse("sin(x)*x"))
        >>> size.expression, size.depth
        (4, 2)
    """
    n = graph.n_inputs
    tree = [1] * n                       # nodes of each slot's sympy tree
    dependence = [0] * n                 # which variables each slot depends on (bits; 1 << i for input i)
    derivative = [1] * n                 # Σ over variables of the nodes of ∂slot/∂x_j's tree
    depth = [0] * n
    # A slot's set of variables (n bits) is dropped after its last reader: with many
    # variables, keeping every slot's would take n/8 bytes a slot.
    nodes = graph.nodes
    last_reader = [0] * graph.size
    for slot, node in enumerate(nodes, n):
        for a in node.args:
            if not isinstance(a, Const):
                last_reader[a] = slot
    for slot, node in enumerate(nodes, n):
        op, args = node.op, node.args
        if op in _SAME_ARGUMENTS and args[0] == args[1]:
            # sympy writes a·a as a², a + a as 2·a: one copy of a's tree, not two.
            op, args = _SAME_ARGUMENTS[op], (args[0], _TWO)
        (extra, uses), partials = _shape(op)
        degree = _exponent_denominator(op, args)
        if degree > 1:
            # sympy works with x^(p/q) through x^(1/q), a polynomial generator of degree q:
            # log(sinh(x^(4031511/4194304))²) took it 11 s. The exponent counts as q nodes.
            extra += degree
            partials = tuple((term_extra + degree, term_uses) for term_extra, term_uses in partials)
        # A folded constant is written as its slot's own exact expression (`slot_expressions`).
        sizes = [(1 if a.slot is None else tree[a.slot]) if isinstance(a, Const) else tree[a] for a in args]
        tree.append(extra + sum(u * s for u, s in zip(uses, sizes)))
        bits, total, deepest = 0, 0, 0
        family = _FAMILIES.get(node.op)
        reads = []
        for position, a in enumerate(args):
            if isinstance(a, Const):
                continue
            variables = dependence[a] if a >= n else 1 << a
            reads.append(variables)
            bits |= variables
            # sympy flattens a sum of sums, a product of products: no deeper.
            flat = family is not None and a >= n and _FAMILIES.get(nodes[a - n].op) == family
            deepest = max(deepest, depth[a] - flat)
            term_extra, term_uses = partials[position]
            term = term_extra + sum(u * s for u, s in zip(term_uses, sizes))
            # Each variable a depends on gets the term ∂slot/∂a · ∂a/∂x_j.
            total += variables.bit_count() * term + derivative[a]
        if len(reads) == 2:
            total += (reads[0] & reads[1]).bit_count()    # the sum of two terms
        for a in args:
            if not isinstance(a, Const) and last_reader[a] == slot:
                dependence[a] = 0
        dependence.append(bits)
        derivative.append(total)
        depth.append(deepest + 1)
    outputs = graph.outputs
    live = graph.live
    return SymbolicSize(len(graph.nodes), sum(tree[s] for s in outputs), sum(derivative[s] for s in outputs),
                        sum(derivative[s] for s in range(n, graph.size) if live[s]), max(depth[s] for s in outputs))


def tree_size(expressions):
    """The nodes of sympy ``expressions`` as trees (a shared subexpression counted each time
    it is used), counted over their distinct subexpressions (cost: the DAG, not the tree)."""
    sizes = {}
    postorder(expressions, sizes, lambda e: 1 + sum(sizes[a] for a in e.args))
    return sum(sizes[e] for e in expressions)


# What sympy may raise while building or differentiating an expression of ours.
_SYMPY_ERRORS = (ValueError, TypeError, ArithmeticError, AttributeError, KeyError, NotImplementedError)


class _Refused(Exception):
    """sympy raised while building or differentiating (the cause)."""


class _OverBudget(Exception):
    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


class OverTime(BaseException):
    """Raised in the thread running a block that `wall_clock_limit` stopped (a
    BaseException, so that ``except Exception`` inside sympy does not swallow it)."""


@contextmanager
def wall_clock_limit(seconds):
    """Raise `OverTime` inside the block once it has run ``seconds`` (None or 0: no limit).

    No signals: a watchdog thread asks the interpreter to raise the exception in this
    thread at its next bytecode (``PyThreadState_SetAsyncExc``, how CPython delivers an
    asynchronous exception, as it does KeyboardInterrupt), so it works in any thread and
    leaves the caller's own alarm-signal handler and timers alone. It asks again every
    0.1 s until the block ends (an exception raised while Python runs a callback, a
    garbage-collection hook, is swallowed), and a request not yet delivered when the block
    ends is withdrawn. Long C calls delay it until they return.
    """
    if not seconds:
        yield
        return
    target = ctypes.c_ulong(threading.get_ident())
    lock = threading.Lock()
    ended = threading.Event()
    fired = []

    def watch():
        if ended.wait(seconds):
            return
        while True:
            with lock:
                if ended.is_set():
                    return
                fired.append(True)
                ctypes.pythonapi.PyThreadState_SetAsyncExc(target, ctypes.py_object(OverTime))
            if ended.wait(0.1):
                return

    watchdog = threading.Thread(target=watch, name="adcompare symbolic time limit", daemon=True)
    watchdog.start()
    try:
        yield
    finally:
        with lock:
            ended.set()
            if fired:
                ctypes.pythonapi.PyThreadState_SetAsyncExc(target, None)


def run(graph, point, digits=30, budget=DEFAULT_BUDGET, time_limit=TIME_LIMIT):
    """Symbolic Jacobian of ``graph``, certified at ``point`` to ``digits`` significant digits.

    ``budget`` is in nodes of sympy's expression trees (`SymbolicSize.total`): when the
    predicted size is larger, or sympy's trees grow larger as it builds and differentiates
    them, or the Graph is deeper than `MAX_DEPTH` operations, the method is skipped
    (``error_kind`` 'skipped', which the cross-check counts as not run) with the sizes.
    ``time_limit`` (seconds) is only a safety net: it stops sympy if it runs that long
    although its sizes are within the budget, and says so.
    """
    size = predicted_size(graph)
    if size.depth > MAX_DEPTH:
        return _skipped(graph, f"skipped: the expression is {size.depth:,} operations deep; sympy recurses over "
                               f"its depth, and the symbolic method's limit is {MAX_DEPTH:,}")
    if size.total > budget:
        return _skipped(graph, f"skipped: its predicted size is {size.total:,} nodes, over the symbolic budget of "
                               f"{budget:,} (--symbolic-budget): {_sizes(graph, size)}")
    try:
        with wall_clock_limit(time_limit):
            return _run(graph, point, digits, budget, size)
    except _OverBudget as over:
        return _skipped(graph, f"skipped: {over.reason}, over the symbolic budget of {budget:,} nodes "
                               f"(--symbolic-budget; predicted: {_sizes(graph, size)})")
    except RecursionError:
        return _skipped(graph, "skipped: the expression is nested too deeply for sympy")
    except _Refused as refused:
        # sympy refuses some expressions it builds itself: Max(zoo, 1/2) for max(tan(asin(x/x)), 0.5),
        # where x/x is 1 and tan(π/2) has no value. Nothing is established then.
        error = refused.__cause__
        return Result("symbolic", tuple(None for _ in graph.outputs), None, Cost(0, 0, 0),
                      error=f"the symbolic value could not be established: sympy raised {type(error).__name__} "
                            f"building or differentiating the expression ({error})",
                      error_kind="unresolved", details={"expressions": (), "derivatives": (), "digits": 0})
    except OverTime:
        return _skipped(graph, f"stopped by the safety limit of {time_limit:g} s although its predicted size "
                               f"is within the budget ({_sizes(graph, size)}); please report this expression")


def _sizes(graph, size):
    unfold = "operation unfolds" if size.operations == 1 else "operations unfold"
    count = len(graph.outputs) * graph.n_inputs
    return (f"the graph's {size.operations:,} {unfold} to {size.expression:,} nodes in sympy's expression tree, "
            f"and the derivatives sympy builds (of it and of its subexpressions) to at most "
            f"{size.intermediate:,}, {size.derivatives:,} in the {count:,} it returns")


def _skipped(graph, reason):
    return Result("symbolic", tuple(None for _ in graph.outputs), None, Cost(0, 0, 0), error=reason,
                  error_kind="skipped", details={"expressions": (), "derivatives": (), "digits": 0})


def _run(graph, point, digits, budget, size):
    constants = {}
    try:
        symbols, outputs = to_sympy(graph, constants=constants)
    except _SYMPY_ERRORS as error:
        raise _Refused() from error
    expression_size = tree_size(outputs)
    if expression_size > budget:
        raise _OverBudget(f"sympy's expression tree has {expression_size:,} nodes")
    derivatives = []
    derivative_size = 0
    for f in outputs:
        row = []
        for x in symbols:
            try:
                d = sympy.diff(f, x)
            except _SYMPY_ERRORS as error:
                raise _Refused() from error
            derivative_size += tree_size([d])
            if expression_size + derivative_size > budget:
                raise _OverBudget(f"sympy's expression tree has {expression_size:,} nodes and its derivatives "
                                  f"more than {derivative_size:,}")
            row.append(d)
        derivatives.append(tuple(row))
    derivatives = tuple(derivatives)
    sizes = {"predicted": size, "expression": expression_size, "derivatives": derivative_size}
    operations = int(sympy.count_ops([d for row in derivatives for d in row]))    # the cost shown
    if point_shape(point) is not None:
        return _run_points(graph, point, symbols, outputs, derivatives, operations, constants)
    m, n = len(outputs), len(symbols)
    certified = certify_sympy([*outputs, *(d for row in derivatives for d in row)],
                              {**dict(zip(symbols, point)), **constants}, digits)
    values = tuple(c.value for c in certified[:m])
    entries = [certified[m + k * n:m + (k + 1) * n] for k in range(m)]
    undefined = [(k, j) for k, row in enumerate(entries) for j, c in enumerate(row) if c.failure == "undefined"]
    limits = {}
    if undefined and all(c.established for c in certified[:m]):
        for (k, j), (value, formula, how) in _at_the_point(graph, point, undefined, digits).items():
            entries[k][j] = value
            limits[(k, j)] = (formula, how)
            derivatives = tuple(tuple(formula if (a, b) == (k, j) else d for b, d in enumerate(row))
                                for a, row in enumerate(derivatives))
    jacobian = [[c.value for c in row] for row in entries]
    error, kind = None, None
    failed = [(k, j) for k, row in enumerate(entries) for j, c in enumerate(row) if not c.established]
    if failed:
        k, j = failed[0]
        entry = entries[k][j]
        formula = sympy.sstr(derivatives[k][j])
        if entry.failure == "undefined":
            error, kind = (f"sympy's derivative {formula} with respect to {graph.variables[j]} is not a finite real "
                           f"number at this point ({entry.reason})"), "undefined"
        else:
            error, kind = (f"the value of sympy's derivative {formula} with respect to {graph.variables[j]} could not "
                           f"be established: {entry.reason}"), "unresolved"
    elif any(c.failure == "undefined" for c in certified[:m]):
        # Rounding can move a point into the float program's domain that the exact function
        # is not defined at: ln(cos(acos(x))) at x < 0 is ln of 6e-17 in floats, of x exactly.
        k = next(k for k, c in enumerate(certified[:m]) if c.failure == "undefined")
        error, kind = (f"sympy's value {sympy.sstr(outputs[k])} is not a finite real number at this point "
                       f"(rounding moved the float program into its domain: {certified[k].reason})"), "undefined"
    return Result("symbolic", values, None if error else np.array(jacobian, dtype=object),
                  Cost(0, 0, operations),
                  details={"expressions": tuple(outputs), "derivatives": derivatives, "digits": digits,
                           "precision": "certified", "certified": tuple(certified), "sizes": sizes,
                           "at_the_point": limits},
                  error=error, error_kind=kind)


def _run_points(graph, point, symbols, outputs, derivatives, size, constants):
    """The symbolic Jacobian over arrays of points, in float64 (see the module doc);
    ``constants``: the named constants' values (`to_sympy_constant`)."""
    shape = point_shape(point)
    details = {"expressions": tuple(outputs), "derivatives": derivatives, "digits": None, "precision": "float64"}
    formulas = [*outputs, *(d for row in derivatives for d in row)]
    try:
        with quiet():
            numeric = sympy.lambdify([*symbols, *constants], formulas, modules="numpy", dummify=True)(
                *point, *(float(c) for c in constants.values()))
    except (NameError, TypeError, ValueError, AttributeError, ArithmeticError) as error:
        return Result("symbolic", tuple(None for _ in outputs), None, Cost(0, 0, size), details=details,
                      error=f"sympy's derivatives could not be evaluated with numpy ({type(error).__name__}: "
                            f"{error})", error_kind="undefined")
    numeric = [_real_array(value, shape) for value in numeric]
    m, n = len(outputs), len(symbols)
    jacobian = np.array(numeric[m:]).reshape((m, n) + shape)
    values = tuple(numeric[:m])
    finite = np.isfinite(jacobian)
    if not finite.all() and finite.all(axis=(0, 1)).any():
        # Some points only (scale branch): those are marked and inconclusive, not the run.
        return Result("symbolic", values, jacobian, Cost(0, 0, size),
                      details={**details, "failed": ~finite.all(axis=(0, 1))})
    if not finite.all():
        k, j, *position = np.argwhere(~finite)[0]
        return Result("symbolic", values, None, Cost(0, 0, size), details=details,
                      error=f"{point_text(graph, point, tuple(position))}: sympy's derivative "
                            f"{sympy.sstr(derivatives[k][j])} with respect to {graph.variables[j]} is not a "
                            "finite real number in float64", error_kind="undefined")
    return Result("symbolic", values, jacobian, Cost(0, 0, size), details=details)


def _real_array(value, shape):
    """A lambdified formula's value as a float64 array of the points' shape (a constant
    formula gives one number; a value with a non-zero imaginary part is not real: NaN)."""
    value = np.broadcast_to(np.asarray(value), shape)
    if np.iscomplexobj(value):
        value = np.where(value.imag == 0, value.real, np.nan)
    return np.array(value, dtype=float)
