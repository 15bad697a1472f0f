"""The code that `adcompare.codegen.CompiledGraph` runs: the Graph's nodes in segments of
straight-line Python, each segment a small function compiled on its own.

Why segments. Python's compiler holds a whole function in memory while it compiles it (GBs
for 10⁶ operations), and a function with 10⁶ local variables runs out of the processor's
caches. So the nodes are cut into segments of at most `SEGMENT_NODES` nodes. The values a
segment passes on are stored in one list of slot values, ``V`` (``V[a:a + K] = (t0, …)``,
in slot order), adjoints in ``A``, tangents in ``T[d]``; a segment's locals are named
relative to its first slot ``a`` (``t0``, ``t1``, … for its own nodes, ``p3`` for slot
``a − 3``, ``x1`` for input 1), so segments of the same shape have the same text and are
compiled once (a chain of a million identical steps compiles a handful of segments). A
graph that fits in one segment is one function taking the inputs as arguments, with no
list in between.

What the code computes (the same local partials, from the operation table, as the
interpreted back ends):

- **reverse**: the primal segments in order, storing every value; then the adjoint
  segments in reverse order. Each node's adjoint is written once, as the sum of its
  consumers' contributions in the order the interpreted sweep accumulates them (the
  highest consumer first); an adjoint that is one consumer's adjoint, or its negation, is
  not copied (``v̄₄ = v̄₅`` is the same name), so nothing is computed twice or copied;
- **tangent**: one forward sweep carrying d directions at once, so the primal is computed
  once. A direction is seeded by literal unit seeds (`jacobian_forward` with few inputs:
  the tangents known to be 0 are never computed, a seed of 1 never multiplied) or by seed
  values passed in, which may be numpy arrays: seeding input j with the unit vector eⱼ
  gives all n tangents in one sweep (vector forward mode, a tangent array per node).
  Tangent code only multiplies and adds tangents by partials, which are computed from the
  primal values, so the same code runs with array tangents.

Bad values: the math-module variant (one point) raises `BadValue` at the first segment
whose domain check fails and leaves the final finiteness check (one ``isfinite`` of a sum)
to the caller; the numpy variant never raises: it returns the domain mask, so that the
caller can mark each point.
"""

from .codegen import _operand    # one rule for when an operand needs parentheses
from .graph import Const
from .ops import MINUS_ONE, ONE, OPERATIONS, TIMES, fill_code

SEGMENT_NODES = 1200      # nodes per segment: small functions compile fast and stay in cache
SUM_TERMS = 32            # a longer sum is written as consecutive statements (nesting limit)


class BadValue(ArithmeticError):
    """A segment's domain check failed (the math-module variant)."""


def _raise_bad():
    raise BadValue("a value outside a domain")


# ----------------------------------------------------------------------------- the plan

class Plan:
    """What every segment needs to know of the Graph: where each node's value is read."""

    def __init__(self, graph, segment_nodes=None):
        self.graph = graph
        self.n = graph.n_inputs
        self.size = graph.size
        step = segment_nodes or SEGMENT_NODES
        self.bounds = [(a, min(a + step, self.size)) for a in range(self.n, self.size, step)] or [(self.n, self.n)]
        self.args = [()] * self.n + [tuple(a for a in graph.node(s).args if not isinstance(a, Const))
                                     for s in range(self.n, self.size)]
        # The last slot that reads each slot (outputs count as read at the end).
        last = list(range(self.size))
        for s in range(self.n, self.size):
            for a in self.args[s]:
                last[a] = s
        for s in graph.outputs:
            last[s] = self.size
        self.last_reader = last

    def segment_of(self, slot):
        return (slot - self.n) // (self.bounds[0][1] - self.bounds[0][0]) if slot >= self.n else -1

    @property
    def whole(self):
        return len(self.bounds) == 1


# ----------------------------------------------------------------------------- names and terms

class _Names:
    """Local names in the segment [a, b): t{i} for its own slots, x{j} for inputs, p{k} for
    slot a − k; each with the code that loads it from a list, and the list's index text."""

    def __init__(self, plan, a, b):
        self.n, self.a, self.b = plan.n, a, b

    def name(self, slot, suffix=""):
        if slot >= self.a:
            return f"t{slot - self.a}{suffix}"
        if slot < self.n:
            return f"x{slot}{suffix}"
        return f"p{self.a - slot}{suffix}"

    def index(self, slot):
        if slot >= self.a:
            return f"a + {slot - self.a}" if slot > self.a else "a"
        if slot < self.n:
            return str(slot)
        return f"a - {self.a - slot}"


def _factor(graph, slot, position, args, output):
    partial = OPERATIONS[graph.node(slot).op].partials[position]
    if partial.kind in (ONE, MINUS_ONE):
        return partial.kind, None
    return partial.kind, _operand(fill_code(partial.code, args, output))


def _scale(sign, text, kind, factor):
    """(sign, text) of an incoming tangent or adjoint (sign, text) times a local partial."""
    if kind == ONE:
        return sign, text
    if kind == MINUS_ONE:
        return -sign, text
    if text == "1.0":
        return sign, factor if kind == TIMES else f"1.0 / {factor}"
    return sign, f"{text} {'*' if kind == TIMES else '/'} {factor}"


def _is_atom(text):
    return text.replace("_", "").replace(".", "").isalnum()


def _sum(terms):
    """The text of Σ sign·text, in order: ``a - b + c`` (``-a + b`` when the first is negative)."""
    if len(terms) > 1 and terms[0][0] < 0 < terms[1][0]:
        terms = [terms[1], terms[0], *terms[2:]]     # b − a is −a + b, exactly, with one operation less
    first_sign, first = terms[0]
    text = ("-" + _operand(first) if first_sign < 0 and len(terms) == 1 else
            ("-" if first_sign < 0 else "") + first)
    for sign, term in terms[1:]:
        text += (" - " if sign < 0 else " + ") + (_operand(term) if sign < 0 else term)
    return text


def _assign(lines, target, terms, start=None):
    """Lines assigning ``target`` the sum of ``terms`` (after ``start``, an expression already
    holding the first part), in consecutive statements of at most SUM_TERMS terms."""
    for k in range(0, len(terms), SUM_TERMS):
        chunk = terms[k:k + SUM_TERMS]
        head = start if k == 0 else target
        if head is None:
            lines.append(f"    {target} = {_sum(chunk)}")
        else:
            lines.append(f"    {target} = {head}{_sum([(1, '0')] + chunk)[1:]}")
    return lines


# ----------------------------------------------------------------------------- segment sources

def _loads(plan, names, slots, lists):
    """Lines loading the values of external ``slots`` (and their tangents) from the lists."""
    lines = []
    for slot in sorted(slots):
        lines.append(f"    {names.name(slot)} = V[{names.index(slot)}]")
    for d, slot, source in lists:
        lines.append(f"    {names.name(slot, f'_d{d}')} = {source}[{names.index(slot)}]")
    return lines


def _primal(plan, names, slot, vectorised):
    graph = plan.graph
    node = graph.node(slot)
    op = OPERATIONS[node.op]
    args = [repr(float(a.value)) if isinstance(a, Const) else names.name(a) for a in node.args]
    lines = []
    if op.domain_code is not None:
        lines.append(f"    inside = inside & ({fill_code(op.domain_code, args)})")
    lines.append(f"    {names.name(slot)} = {fill_code(op.code, args)}")
    return lines, args


def _first_domain(lines):
    """``inside = True`` then ``inside = inside & (c)``: start from the first condition
    instead (over arrays, ``True & mask`` is one more pass over the points)."""
    for k, line in enumerate(lines):
        if line.startswith("    inside = inside & ("):
            lines[k] = line.replace("inside & ", "", 1)
            return lines[1:] if lines[0] == "    inside = True" else lines
    return lines


def _external(plan, a, b):
    return sorted({x for s in range(a, b) for x in plan.args[s] if x < a})


def forward_segment(plan, a, b, vectorised, directions=(), store="reads", tangent_state=None):
    """Source of one primal (and tangent) segment over slots [a, b).

    ``directions`` is one seed pattern per tangent direction: for each input j, None (tangent
    0), "1.0" (a unit seed) or "seed" (a value from T[d][j]). ``tangent_state[d][slot]`` is
    updated with each slot's tangent: None (known to be 0) or (sign, text); a tangent that a
    later segment reads is stored in T[d]. ``store``: "all" stores every value (for the
    reverse sweep), "reads" only those read later. Returns (source, outputs dict) where a
    whole-graph segment returns its results itself.
    """
    graph = plan.graph
    names = _Names(plan, a, b)
    external = _external(plan, a, b)
    lines = ["    inside = True"]
    loads = []
    body = []
    for d, seeds in enumerate(directions):
        state = tangent_state[d]
        for slot in external:
            if state[slot] is not None and not (slot < plan.n and seeds[slot] == "1.0"):
                loads.append((d, slot, f"T[{d}]"))
                state_name = names.name(slot, f"_d{d}")
                state[slot] = (state[slot][0], state_name)
    for slot in range(a, b):
        primal, args = _primal(plan, names, slot, vectorised)
        body += primal
        node = graph.node(slot)
        factors = {}
        for position, arg in enumerate(node.args):
            if isinstance(arg, Const):
                continue
            kind, factor = _factor(graph, slot, position, args, names.name(slot))
            users = sum(tangent_state[d][arg] is not None for d in range(len(directions)))
            if users > 1 and factor is not None and not _is_atom(factor):
                # A partial that several directions use is computed once.
                body.append(f"    {names.name(slot, f'_p{position}')} = {factor}")
                factor = names.name(slot, f"_p{position}")
            factors[position] = kind, factor
        for d in range(len(directions)):
            state = tangent_state[d]
            terms = []
            for position, arg in enumerate(node.args):
                if isinstance(arg, Const) or state[arg] is None:
                    continue
                terms.append(_scale(*state[arg], *factors[position]))
            if not terms:
                state[slot] = None
            elif len(terms) == 1 and _is_atom(terms[0][1]):
                state[slot] = terms[0]
            else:
                _assign(body, names.name(slot, f"_d{d}"), terms)
                state[slot] = (1, names.name(slot, f"_d{d}"))
    if plan.whole:          # the inputs (and seeds) are the function's arguments
        return _first_domain(lines + body), names
    lines = _first_domain(lines + _loads(plan, names, external, loads) + body)
    # Values (and tangents) that later segments read.
    if store == "all":
        lines.append(f"    V[a:a + {b - a}] = ({', '.join(names.name(s) for s in range(a, b))},)")
    else:
        for slot in range(a, b):
            if plan.last_reader[slot] >= b:
                lines.append(f"    V[{names.index(slot)}] = {names.name(slot)}")
    for d in range(len(directions)):
        state = tangent_state[d]
        for slot in range(a, b):
            if plan.last_reader[slot] >= b and state[slot] is not None:
                lines.append(f"    T[{d}][{names.index(slot)}] = {_sum([state[slot]])}")
                state[slot] = (1, None)      # stored: a later segment loads it by name
    return lines, names


def reverse_segment(plan, a, b, output_slot, reaches, pending, outside):
    """Source lines of the adjoint segment over [a, b) (run after all primal segments, in
    reverse segment order). ``reaches[slot]``: the slot is on a path to the output.
    ``pending``: slots whose adjoint already holds contributions in A (from later segments).
    ``outside``: collects nothing; contributions to slots before ``a`` go to A here."""
    graph = plan.graph
    names = _Names(plan, a, b)
    lines = [f"    {', '.join(names.name(s) for s in range(a, b))}, = V[a:a + {b - a}]"] if not plan.whole else []
    external = _external(plan, a, b)
    if not plan.whole:
        lines += [f"    {names.name(s)} = V[{names.index(s)}]" for s in external]
    terms = {}
    bars = {}
    for slot in range(b - 1, a - 1, -1):
        if not reaches[slot]:
            continue
        own = terms.pop(slot, [])
        if slot in pending:
            own = [(1, f"A[{names.index(slot)}]")] + own
        if slot == output_slot:
            own = [(1, "1.0")] + own
        if not own:
            continue
        if len(own) == 1 and _is_atom(own[0][1]) and not own[0][1].startswith("A["):
            bar = own[0]
        else:
            _assign(lines, names.name(slot, "_bar"), own)
            bar = (1, names.name(slot, "_bar"))
        bars[slot] = bar
        node = graph.node(slot)
        args = [repr(float(x.value)) if isinstance(x, Const) else names.name(x) for x in node.args]
        for position, arg in enumerate(node.args):
            if isinstance(arg, Const) or not reaches[arg]:
                continue
            kind, factor = _factor(graph, slot, position, args, names.name(slot))
            terms.setdefault(arg, []).append(_scale(*bar, kind, factor))
    for arg in sorted(terms, reverse=True):          # slots before a: through A
        target = f"A[{names.index(arg)}]"
        _assign(lines, target, terms[arg], start=target if arg in pending else None)
        pending.add(arg)
    return lines, names, bars


def reaching(plan, output_slot):
    """For each slot, whether the output depends on it (its adjoint is not 0 by structure)."""
    reaches = [False] * plan.size
    reaches[output_slot] = True
    for slot in range(output_slot, plan.n - 1, -1):
        if reaches[slot] and slot >= plan.n:
            for a in plan.args[slot]:
                reaches[a] = True
    return reaches


# ----------------------------------------------------------------------------- compiling

class Compiler:
    """Compiles segment texts into functions over one namespace, each distinct text once."""

    def __init__(self, namespace):
        self.namespace = {**namespace, "_raise_bad": _raise_bad}
        self.cache = {}
        self.compiled_segments = 0

    def function(self, header, lines):
        text = header + "\n" + "\n".join(lines) + "\n"
        function = self.cache.get(text)
        if function is None:
            scope = dict(self.namespace)
            exec(compile(text, "<adcompare sweep>", "exec"), scope)   # our own text only: no user string
            function = self.cache[text] = scope["_segment"]
            self.compiled_segments += 1
        return function


def _end_domain(lines, vectorised):
    """A segment's domain flag: raised on at once for one point, returned for many."""
    if vectorised:
        lines.append("    return inside")
    else:
        lines.append("    if not inside:\n        _raise_bad()")


def build_forward(plan, compiler, vectorised, directions, outputs_needed=True):
    """The tangent (or, with no directions, primal) sweep as a callable:
    ``run(inputs, seeds) -> (outputs, tangents per direction per output, inside)``;
    ``seeds[d][j]`` are the values for inputs whose pattern is "seed"."""
    n, graph = plan.n, plan.graph
    state = [[None] * plan.size for _ in directions]
    for d, seeds in enumerate(directions):
        for j in range(n):
            if seeds[j] == "1.0":
                state[d][j] = (1, "1.0")
            elif seeds[j] == "seed":
                state[d][j] = (1, f"x{j}_d{d}")
    if plan.whole:
        a, b = plan.bounds[0]
        lines, names = forward_segment(plan, a, b, vectorised, directions, tangent_state=state)
        params = [f"x{j}" for j in range(n)] + [f"x{j}_d{d}" for d, seeds in enumerate(directions)
                                                  for j in range(n) if seeds[j] == "seed"]
        outputs = ", ".join(names.name(s) for s in graph.outputs)
        tangents = ", ".join(f"({', '.join(_tangent_text(state[d][s]) for s in graph.outputs)},)"
                             for d in range(len(directions)))
        # Seed values may be arrays (vector forward mode): their tangents are the caller's to check.
        results = [names.name(s) for s in graph.outputs] + [_tangent_text(state[d][s]) for d in range(len(directions))
                                                             for s in graph.outputs if "seed" not in directions[d]]
        if not vectorised:
            _end_check(lines, results)
        lines.append(f"    return ({outputs},), ({tangents}{',' if directions else ''}), inside")
        function = compiler.function(f"def _segment({', '.join(params)}):", lines)
        seeded = [(d, j) for d, seeds in enumerate(directions) for j in range(n) if seeds[j] == "seed"]

        def run(inputs, seeds=()):
            return function(*inputs, *[seeds[d][j] for d, j in seeded])
        run.functions = [function]
        run.direct = None if seeded else function
        return run
    functions = []
    for a, b in plan.bounds:
        lines, _ = forward_segment(plan, a, b, vectorised, directions, tangent_state=state)
        _end_domain(lines, vectorised)
        functions.append((compiler.function("def _segment(V, T, a):", lines), a))
    final = [[state[d][s] for s in graph.outputs] for d in range(len(directions))]
    size = plan.size
    outputs = graph.outputs

    def run(inputs, seeds=()):
        V = [*inputs, *[None] * (size - n)]
        T = [[*(seeds[d] if seeds else [None] * n), *[None] * (size - n)] for d in range(len(directions))]
        inside = True
        for function, a in functions:
            flag = function(V, T, a)
            if vectorised and flag is not True:
                inside = inside & flag
        tangents = tuple(tuple(_stored(state, V, T[d], s) for state, s in zip(final[d], outputs))
                         for d in range(len(directions)))
        return tuple(V[s] for s in outputs), tangents, inside
    run.functions = [f for f, _ in functions]
    run.direct = None
    return run


def _end_check(lines, results):
    """One point, one function: the domain flag and one isfinite of a sum of the results
    (a NaN or ±∞ anywhere makes it non-finite; a finite sum that overflows only sends the
    call to the slower path)."""
    results = [r for r in results if not _is_number(r)]
    total = " + ".join(results) if len(results) <= 8 else f"sum(({', '.join(results)},))"
    lines.append(f"    if not (inside and isfinite({total or '0.0'})):\n        _raise_bad()")


def _is_number(text):
    try:
        float(text)
        return True
    except ValueError:
        return False


def _tangent_text(state):
    return "0.0" if state is None else _sum([state])


def _stored(state, V, T, slot):
    """An output's tangent after a segmented sweep: 0, a unit seed, or what T holds."""
    if state is None:
        return 0.0
    sign, text = state
    if text == "1.0":
        return float(sign)
    return T[slot] if sign > 0 else -T[slot]


def build_reverse(plan, compiler, vectorised, output=0):
    """The reverse sweep of output ``output`` as ``run(inputs) -> (value, gradient, inside)``."""
    n, graph = plan.n, plan.graph
    out = graph.outputs[output]
    reaches = reaching(plan, out)
    pending = set()
    if plan.whole:
        a, b = plan.bounds[0]
        lines, names = forward_segment(plan, a, b, vectorised)
        back, _, _ = reverse_segment(plan, a, b, out, reaches, pending, None)
        lines += [line.replace("A[", "_A[") for line in back]
        # In one function, input adjoints are locals: replace the A-list by names.
        text = "\n".join(lines)
        for j in range(n):
            text = text.replace(f"_A[{j}]", f"x{j}_bar")
        gradient = ", ".join(f"x{j}_bar" if j in pending else "0.0" for j in range(n))
        body = text.split("\n")
        if not vectorised:
            _end_check(body, [names.name(out)] + [f"x{j}_bar" for j in range(n) if j in pending])
        body.append(f"    return {names.name(out)}, ({gradient}{',' if n == 1 else ''}), inside")
        function = compiler.function(f"def _segment({', '.join(f'x{j}' for j in range(n))}):", body)

        def run(inputs):
            return function(*inputs)
        run.functions = [function]
        run.direct = function
        return run
    forward = []
    for a, b in plan.bounds:
        lines, _ = forward_segment(plan, a, b, vectorised, store="all", tangent_state=[])
        _end_domain(lines, vectorised)
        forward.append((compiler.function("def _segment(V, T, a):", lines), a))
    backward = []
    for a, b in reversed(plan.bounds):
        if not any(reaches[a:b]):
            continue
        lines, _, _ = reverse_segment(plan, a, b, out, reaches, pending, None)
        backward.append((compiler.function("def _segment(V, A, a):", lines or ["    pass"]), a))
    size = plan.size
    inputs_reached = [j in pending for j in range(n)]

    def run(inputs):
        V = [*inputs, *[None] * (size - n)]
        inside = True
        for function, a in forward:
            flag = function(V, None, a)
            if vectorised and flag is not True:
                inside = inside & flag
        A = [None] * size
        for function, a in backward:
            function(V, A, a)
        if out < n:         # the output is an input
            A[out] = 1.0 if A[out] is None else A[out]
        return V[out], tuple(A[j] if reached else 0.0 for j, reached in enumerate(inputs_reached)), inside
    run.functions = [f for f, _ in forward] + [f for f, _ in backward]
    run.direct = None
    return run
