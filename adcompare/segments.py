"""The code that `adcompare.codegen.CompiledGraph` runs: the Graph's nodes in segments of
straight-line Python, each segment a small function compiled on its own.

Why segments, and why small frames. Python's compiler holds a whole function in memory
while it compiles it (GBs for 10⁶ operations), so the nodes are cut into segments of at
most `SEGMENT_NODES` nodes, each a function ``_segment(V, A or T, a)``; the values a
segment passes on go through one list of slot values, ``V``, adjoints through ``A``,
tangents through ``T[d]``. Since Python 3.11 a call's frame (its variables and evaluation
stack) is placed on a per-thread stack made of 16 KB chunks; a frame that does not fit in
what is left of the current chunk gets a chunk of its own, allocated (mmap) at the call and
freed at the return, on every call (CPython issue 142183, "Calls across stack chunks perform
badly"; fixed in 3.15, backported to 3.14). A segment whose 1,200 values and 1,200 adjoints
each had a variable, plus a 1,200-value tuple on its stack, needed 19 KB: every call paid
the allocation (10–20 µs, and far more under load), and a whole function's frame straddled a
chunk at some call depths and not at others. So every name here is short-lived:

- the slots are taken in batches of `WINDOW` (w) slots. In a forward segment slot a + i is
  register ``r{i mod 2w}``, its tangent ``r{i mod 2w}_d{d}`` (w smaller for many directions,
  `forward_window`): a value read at most 2w − 1 slots later is read from its register,
  one read further is loaded from V into the node's temporary (``f0``), and each batch
  stores what others read (``V[a + 32:a + 64] = (r0, None, r2, …)``) while its registers
  still hold it;
- in an adjoint segment, slots go downwards; adjoint a + i is ``b{i mod 2w}``; a batch
  loads the values its partials read with one slice (``v3, _, v5, = V[…]``) into
  ``v{i mod 4w}``; a contribution from a consumer w or more slots above its argument goes
  to A at once instead of waiting in the argument's sum (the sum starts from A then, so the
  order of the terms, and the floats, stay those of the interpreted sweep);
- inputs and the other slots before a segment are loaded at its top (``x1``, ``p3``); a
  segment ends where it reads `SEGMENT_EXTERNALS` of them.

So a segment's frame stays near 200 variables (`tests/test_codegen.py` checks it), and
segments of the same shape have the same text and are compiled once (a chain of a million
identical steps compiles a handful of segments). A graph whose sweep fits one function of
at most `FUNCTION_SLOTS` variables (8 KB, within one default chunk) is one function taking
the inputs as arguments, every value in a variable of its own, with no list in between.

What the code computes (the same local partials, from the operation table, as the
interpreted back ends):

- **only what is read**: a value is computed where a local partial that the sweep uses
  reads it, a domain check reads it, it is returned, or such a value is computed from it
  (`needed_values`). The gradient of ln(x1) + x1·x2 − sin(x2) reads x1, x2 and cos(x2),
  never ln x1, sin x2 or the sums, so its sweep does not compute them; every domain is
  still checked;
- **reverse**: the primal segments in order, storing the values the adjoints read; then the
  adjoint segments in reverse order. Each node's adjoint is written once, as the sum of its
  consumers' contributions in the order the interpreted sweep accumulates them (the
  highest consumer first); an adjoint that is one consumer's adjoint, or its negation, is
  not copied (``v̄₄ = v̄₅`` is the same name), so nothing is computed twice or copied;
- **tangent**: one forward sweep carrying d directions at once, so the primal is computed
  once. A direction is seeded by literal unit seeds (`jacobian_forward` with few inputs:
  the tangents known to be 0 are never computed, a seed of 1 never multiplied) or by seed
  values passed in, which may be numpy arrays: seeding input j with the unit vector eⱼ
  gives all n tangents in one sweep (vector forward mode, a tangent array per node).
  Tangent code only multiplies and adds tangents by partials, which are computed from the
  primal values, so the same code runs with array tangents. Only the tangents of nodes
  that some output depends on are computed.

Bad values: the math-module variant (one point) raises `BadValue` at the first segment
whose domain check fails and leaves the final finiteness check (one ``isfinite`` of a sum)
to the caller; the numpy variant never raises: it returns the domain mask, so that the
caller can mark each point.

Making the text is part of the compile time that `benchmarks/scale.py` measures per node,
so the operation table's code is turned into format strings once (`CODES`) and each node
costs a few string formats.
"""

from .codegen import _operand    # one rule for when an operand needs parentheses
from .graph import Const
from .ops import MINUS_ONE, ONE, OPERATIONS, TIMES, fill_code

SEGMENT_NODES = 1200      # nodes per segment: small functions compile fast and stay in cache
SEGMENT_EXTERNALS = 64    # a segment reads at most about this many slots before it (each a variable)
WINDOW = 32               # slots per batch; a register is reused 2 (values of a tangent sweep, adjoints) or 4
                          # (values of an adjoint sweep) batches later
FUNCTION_SLOTS = 1000     # the variables of a sweep in one function, at most (its frame: see the docstring)
SUM_TERMS = 32            # a longer sum is written as consecutive statements (nesting limit)


class BadValue(ArithmeticError):
    """A segment's domain check failed (the math-module variant)."""


def _raise_bad():
    raise BadValue("a value outside a domain")


# ----------------------------------------------------------------------------- the table's code

def _format(code, arity):
    """A code template of the operation table as a format string: ``$0``, ``$1`` become
    ``{0}``, ``{1}`` and the output ``$y`` becomes ``{arity}``, so that
    ``text.format(*arguments, output)`` is ``fill_code(code, arguments, output)`` for
    arguments that are names or parenthesised numerals."""
    text = code.replace("{", "{{").replace("}", "}}")
    for k in range(arity):
        text = text.replace(f"${k}", "{%d}" % k)
    return text.replace("$y", "{%d}" % arity)


def _reads(code, arity):
    """The positions a code template reads: 0 … arity − 1 its arguments, arity its output."""
    return tuple(k for k in range(arity) if f"${k}" in code) + ((arity,) if "$y" in code else ())


class Code:
    """One operation's code from the table, ready to fill in: its value, its domain check
    and, per argument, the local partial as (kind, factor, positions read), the factor
    parenthesised where `_operand` would parenthesise it (its arguments are names or
    numerals, so the template alone decides)."""

    __slots__ = ("value", "domain", "domain_reads", "partials")

    def __init__(self, op):
        arity = op.arity
        self.value = _format(op.code, arity)
        self.domain = None if op.domain_code is None else _format(op.domain_code, arity)
        self.domain_reads = () if op.domain_code is None else _reads(op.domain_code, arity)
        partials = []
        for partial in op.partials:
            if partial.kind in (ONE, MINUS_ONE):
                partials.append((partial.kind, None, ()))
                continue
            filled = fill_code(partial.code, ["a", "b"][:arity], "y")
            factor = _format(partial.code, arity)
            partials.append((partial.kind, factor if _operand(filled) == filled else f"({factor})",
                             _reads(partial.code, arity)))
        self.partials = tuple(partials)


CODES = {name: Code(op) for name, op in OPERATIONS.items()}


def _constant(arg):
    """A constant as code: repr of its float, parenthesised when negative (as fill_code does)."""
    text = repr(float(arg.value))
    return f"({text})" if text.startswith("-") else text


# ----------------------------------------------------------------------------- the plan

class Plan:
    """What every segment needs to know of the Graph: its nodes and their code, where each
    node's value is last read, and the segments' bounds: at most `SEGMENT_NODES` nodes, and
    a segment that reads `SEGMENT_EXTERNALS` slots before it (inputs, say) ends there, so
    that the values it loads stay few."""

    def __init__(self, graph, segment_nodes=None):
        self.graph = graph
        self.n = n = graph.n_inputs
        self.size = size = graph.size
        step = segment_nodes or SEGMENT_NODES
        self.nodes = graph.nodes
        self.codes = [CODES[node.op] for node in graph.nodes]
        bounds = []
        first, external = n, set()
        for s, node in enumerate(graph.nodes, n):
            if s - first >= step or len(external) >= SEGMENT_EXTERNALS:
                bounds.append((first, s))
                first, external = s, set()
            for a in node.args:
                if a.__class__ is not Const and a < first:
                    external.add(a)
        self.bounds = bounds + [(first, size)]
        # The last slot that reads each slot (outputs count as read at the end).
        last = list(range(size))
        for s, node in enumerate(graph.nodes, n):
            for a in node.args:
                if a.__class__ is not Const:
                    last[a] = s
        for s in graph.outputs:
            last[s] = size
        self.last_reader = last

    @property
    def whole(self):
        """Whether the nodes fit one segment."""
        return len(self.bounds) == 1

    @property
    def small(self):
        """Whether a sweep in one function (every value in a variable of its own) may fit
        `FUNCTION_SLOTS`; `fits` decides from its lines."""
        return self.size - self.n <= min(SEGMENT_NODES, FUNCTION_SLOTS)


def fits(params, lines, results):
    """Whether a sweep in one function of these ``params`` and ``lines`` (assignments),
    returning ``results``, has a frame within `FUNCTION_SLOTS`: its variables, and an
    evaluation stack of at most the returned tuple or a sum of `SUM_TERMS` terms."""
    variables = len(params) + len({line.split(" = ", 1)[0] for line in lines})
    return variables + max(len(results), SUM_TERMS) + 8 <= FUNCTION_SLOTS


def reaching(plan, outputs):
    """For each slot, whether one of ``outputs`` (slots) depends on it."""
    reaches = bytearray(plan.size)
    n, nodes = plan.n, plan.nodes
    for s in outputs:
        reaches[s] = 1
    for slot in range(plan.size - 1, n - 1, -1):
        if reaches[slot]:
            for a in nodes[slot - n].args:
                if a.__class__ is not Const:
                    reaches[a] = 1
    return reaches


def carrying(plan, inputs):
    """For each slot, whether its tangent can be nonzero: it depends on one of ``inputs``."""
    carries = bytearray(plan.size)
    for j in inputs:
        carries[j] = 1
    n = plan.n
    for slot, node in enumerate(plan.nodes, n):
        for a in node.args:
            if a.__class__ is not Const and carries[a]:
                carries[slot] = 1
                break
    return carries


def needed_values(plan, differentiated, carries, results):
    """For each slot, whether the sweep computes its value: it is a result (``results``:
    slots), a domain check reads it, a local partial that the sweep uses reads it (the
    partial of argument a of a node in ``differentiated`` where ``carries[a]``), or a needed
    value is computed from it. Every other value is left out: no derivative reads it."""
    n, nodes, codes = plan.n, plan.nodes, plan.codes
    needed = bytearray(plan.size)
    for s in results:
        needed[s] = 1
    for s in range(plan.size - 1, n - 1, -1):
        args = nodes[s - n].args
        code = codes[s - n]
        for k in code.domain_reads:
            if args[k].__class__ is not Const:
                needed[args[k]] = 1
        if differentiated[s]:
            arity = len(args)
            for position, a in enumerate(args):
                if a.__class__ is Const or not carries[a]:
                    continue
                for k in code.partials[position][2]:
                    if k == arity:
                        needed[s] = 1
                    elif args[k].__class__ is not Const:
                        needed[args[k]] = 1
        if needed[s]:
            for a in args:
                if a.__class__ is not Const:
                    needed[a] = 1
    return needed


# ----------------------------------------------------------------------------- names and terms

class _Names:
    """Names in the segment [a, b): x{j} for inputs and p{k} for slot a − k, loaded once at
    the top (``outside`` collects them); the segment's own slots have register names that
    the sweeps choose (see `forward_segment`, `reverse_segment`)."""

    __slots__ = ("n", "a", "outside")

    def __init__(self, plan, a):
        self.n, self.a = plan.n, a
        self.outside = set()

    def external(self, slot):
        """The name of a slot before a; the segment loads it at its top."""
        self.outside.add(slot)
        return "x%d" % slot if slot < self.n else "p%d" % (self.a - slot)

    def local(self, slot):
        """The name of a slot before a, without loading it."""
        return "x%d" % slot if slot < self.n else "p%d" % (self.a - slot)

    def index(self, slot):
        if slot >= self.a:
            return "a + %d" % (slot - self.a) if slot > self.a else "a"
        if slot < self.n:
            return str(slot)
        return "a - %d" % (self.a - slot)

    def loads(self):
        """Lines loading the values of the slots before a that were named: a run of nearby
        slots (inputs x300 … x363, say) as one slice."""
        lines = []
        slots = sorted(self.outside)
        start = 0
        while start < len(slots):
            end = start + 1
            while end < len(slots) and slots[end] - slots[end - 1] <= 2:
                end += 1
            run = slots[start:end]
            if len(run) >= 3:
                taken = set(run)
                targets = ", ".join(self.local(x) if x in taken else "_" for x in range(run[0], run[-1] + 1))
                lines.append("    %s, = V[%s:%s]" % (targets, self.index(run[0]), self.index(run[-1] + 1)))
            else:
                lines += ["    %s = V[%s]" % (self.local(x), self.index(x)) for x in run]
            start = end
        return lines


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

def _first_domain(lines):
    """``inside = True`` then ``inside = inside & (c)``: start from the first condition
    instead (over arrays, ``True & mask`` is one more pass over the points)."""
    for k, line in enumerate(lines):
        if line.startswith("    inside = inside & ("):
            lines[k] = line.replace("inside & ", "", 1)
            return lines[1:] if lines[0] == "    inside = True" else lines
    return lines


_NEVER = -10 ** 12        # the owner of a name that no alias may take (a temporary)


def _lasting(text):
    """Whether a name or numeral holds its value for a whole segment: a numeral, an input
    or a value loaded at the segment's top (x1, p3, x1_d0, p3_d0)."""
    return text[0] in "xp" or _is_number(text)


def forward_window(directions):
    """The register window of a tangent sweep carrying ``directions`` directions: fewer
    slots for more directions, so that the frame stays about as small."""
    return WINDOW if directions <= 1 else max(4, WINDOW // directions)


def forward_segment(plan, a, b, needed, directions=(), tangent_state=None, wanted=None, store="reads",
                    whole=False):
    """Source lines of one primal (and tangent) segment over slots [a, b), and its names.

    ``needed[slot]``: the value is computed (see `needed_values`); every domain is checked.
    ``directions`` is one seed pattern per tangent direction: for each input j, None (tangent
    0), "1.0" (a unit seed) or "seed" (a value from T[d][j]). ``tangent_state[d][slot]`` is
    updated with each slot's tangent: None (known to be 0) or (sign, text); tangents are
    computed for the slots in ``wanted`` only. ``store``: "all" stores every computed value
    in V (for the reverse sweep), "reads" those read later.

    Names: ``whole`` (a sweep in one function): t{i} for slot a + i, t{i}_d{d} its tangent,
    inputs and seeds the function's parameters. Otherwise slot a + i is register r{i mod
    2w} (w = `forward_window`), its tangent r{i mod 2w}_d{d}: a register is written again
    2w slots later, so a value read at most 2w − 1 slots after it is read from its
    register, and one read further is loaded from V (``f0``, ``f1``: the node's own
    temporaries). Values and tangents are stored at the end of each batch of w slots, while
    their registers still hold them, where a later segment or a distant node reads them. A
    tangent that is another name (a seed, ``x1`` for d(x0·x1)/dx0) is that name where it
    stays valid for every reader.
    """
    n, nodes, codes = plan.n, plan.nodes, plan.codes
    names = _Names(plan, a)
    count = len(directions)
    body = ["    inside = True"]
    append = body.append
    tangent_loads = set()
    w = None if whole else forward_window(count)
    span = 2 * w if w else 0
    last_reader = plan.last_reader
    owner = {}                 # register name → the slot it holds now
    origin = {}                # (direction, slot) → the slot whose register its tangent's name is

    def register(slot):
        return "t%d" % (slot - a) if whole else "r%d" % ((slot - a) % span)

    def stored_later(slot):
        reader = last_reader[slot]
        return reader >= b or reader >= slot + span

    for slot in range(a, b):
        node_args = nodes[slot - n].args
        code = codes[slot - n]
        own = register(slot)
        # The arguments' names: what the value, the domain check or a partial that the
        # tangents use reads (a value that nothing here reads is never loaded).
        if needed[slot]:
            reads = range(len(node_args))
        else:
            reads = set(code.domain_reads)
            if count and wanted[slot]:
                for position, arg in enumerate(node_args):
                    if arg.__class__ is not Const and any(state[arg] is not None for state in tangent_state):
                        reads.update(k for k in code.partials[position][2] if k < len(node_args))
        args = [None] * len(node_args)
        for k in reads:
            x = node_args[k]
            if x.__class__ is Const:
                args[k] = _constant(x)
            elif x < a:
                args[k] = names.external(x)
            elif whole or slot - x < span:
                args[k] = register(x)
            else:                 # a distant value: from V, where it was stored
                args[k] = "f%d" % k
                append("    f%d = V[%s]" % (k, names.index(x)))
                owner[args[k]] = _NEVER
        if code.domain is not None:
            append("    inside = inside & (" + code.domain.format(*args) + ")")
        if needed[slot]:
            append("    " + own + " = " + code.value.format(*args))
            owner[own] = slot
        if count and wanted[slot]:
            _tangents(plan, a, b, slot, own, node_args, code, args, directions, tangent_state, names, body,
                      tangent_loads, owner, origin, whole, span)
        if not whole and ((slot - a) % w == w - 1 or slot == b - 1):
            _store_batch(slot - (slot - a) % w, slot + 1, needed, store, tangent_state, count, names, body,
                         register, stored_later)
    if whole:          # the inputs (and seeds) are the function's arguments
        return _first_domain(body), names
    for state in tangent_state or ():
        for slot in range(a, b):
            if state[slot] is not None and stored_later(slot):
                state[slot] = (1, None)      # stored: a later segment loads it by name
    loads = names.loads() + ["    %s_d%d = T[%d][%s]" % (names.local(s), d, d, names.index(s))
                             for d, s in sorted(tangent_loads)]
    return _first_domain(body[:1] + loads + body[1:]), names


def _tangents(plan, a, b, slot, own, node_args, code, args, directions, tangent_state, names, body,
              tangent_loads, owner, origin, whole, span):
    """The tangent lines of one node (see `forward_segment`)."""
    count = len(directions)
    factors = {}
    for position, arg in enumerate(node_args):
        if arg.__class__ is Const:
            continue
        users = 0
        for d in range(count):
            state = tangent_state[d]
            if state[arg] is None:
                continue
            users += 1
            if arg < a and not whole and state[arg][1] != "1.0" and (d, arg) not in tangent_loads:
                # A tangent from an earlier segment (stored there, or a seed): load it.
                tangent_loads.add((d, arg))
                state[arg] = (1, f"{names.local(arg)}_d{d}")
        if not users:
            continue
        kind, factor, _ = code.partials[position]
        if factor is not None:
            factor = factor.format(*args, own)
            if users > 1 and not _is_atom(factor):
                # A partial that several directions use is computed once.
                body.append(f"    {own}_p{position} = {factor}")
                factor = f"{own}_p{position}"
                owner[factor] = slot
            factors[position] = kind, factor
        else:
            factors[position] = kind, None
    reader = min(plan.last_reader[slot], b - 1)
    for d in range(count):
        state = tangent_state[d]
        terms = []
        far = 0
        for position, arg in enumerate(node_args):
            if position not in factors or state[arg] is None:
                continue
            sign, text = state[arg]
            if not whole and arg >= a and origin.get((d, arg), slot) <= slot - span:
                # The tangent's register was written again since: from T, where it was stored.
                body.append("    f%d_d%d = T[%d][%s]" % (far, d, d, names.index(arg)))
                sign, text = 1, "f%d_d%d" % (far, d)
                owner[text] = _NEVER
                far += 1
            terms.append(_scale(sign, text, *factors[position]))
        if not terms:
            state[slot] = None
            continue
        if len(terms) == 1 and _is_atom(terms[0][1]):
            text = terms[0][1]
            source = owner.get(text)
            # The same name, where it holds the value for every reader of this tangent.
            if whole or (_lasting(text) if source is None else
                         slot - source < span // 2 and reader < source + span):
                state[slot] = terms[0]
                if source is not None:
                    origin[d, slot] = source
                continue
        _assign(body, f"{own}_d{d}", terms)
        state[slot] = (1, f"{own}_d{d}")
        owner[f"{own}_d{d}"] = origin[d, slot] = slot


def _store_batch(first, end, needed, store, tangent_state, count, names, body, register, stored_later):
    """Lines storing the values (and tangents) of slots [first, end) that others read."""
    if store == "all":
        body.append(f"    V[{names.index(first)}:{names.index(end)}] = "
                    f"({', '.join(register(s) if needed[s] else 'None' for s in range(first, end))},)")
    else:
        for slot in range(first, end):
            if needed[slot] and stored_later(slot):
                body.append(f"    V[{names.index(slot)}] = {register(slot)}")
    for d in range(count):
        state = tangent_state[d]
        for slot in range(first, end):
            if state[slot] is not None and stored_later(slot):
                body.append(f"    T[{d}][{names.index(slot)}] = {_sum([state[slot]])}")


def reverse_segment(plan, a, b, output_slot, reaches, pending, whole=False):
    """Source lines of the adjoint segment over [a, b) (run after all primal segments, in
    reverse segment order). ``reaches[slot]``: the slot is on a path to the output.
    ``pending``: slots whose adjoint already holds contributions, in A (or for a
    one-function sweep in ``x{j}_bar``); updated.

    Each node's adjoint is one sum of its consumers' contributions, highest consumer first.
    ``whole``: names t{i}_bar, values t{i} (computed in the same function). Otherwise the
    slots are taken in batches of w = `WINDOW`, downwards: a contribution from a consumer w
    or more slots above goes to A at once (so that what it reads need not wait), the others
    wait in the sum; adjoint a + i is register b{i mod 2w}, and the values that a batch's
    partials read are loaded from V into v{i mod 4w} at the batch's top (one slice), a value
    further below into the node's temporary; so no name needs to live long.
    """
    n, nodes, codes = plan.n, plan.nodes, plan.codes
    names = _Names(plan, a)
    lines = []
    terms = {}
    w = WINDOW
    owner = {}                   # adjoint register → the slot it holds
    holder = {}                  # value register → the slot whose value it holds
    top = None
    # The sum of contributions to a slot before a is written after its lowest consumer here.
    lowest = {}
    for slot in range(b - 1, a - 1, -1):
        if reaches[slot]:
            for arg in nodes[slot - n].args:
                if arg.__class__ is not Const and arg < a and reaches[arg]:
                    lowest[arg] = slot
    closing = {}
    for arg, slot in lowest.items():
        closing.setdefault(slot, []).append(arg)

    def value(x, reader, k):
        """The name of value x (read by a partial of ``reader``)."""
        if x < a:
            return names.external(x)
        if whole:
            return "t%d" % (x - a)
        if x >= top - 2 * w:
            return "v%d" % ((x - a) % (4 * w))
        name = "f%d_%d" % ((reader - a) % (2 * w), k)
        lines.append("    %s = V[%s]" % (name, names.index(x)))
        return name

    def contribute(target, term):
        """A contribution to ``target`` (a slot) that cannot wait: into A now."""
        place = f"x{target}_bar" if whole else f"A[{names.index(target)}]"
        _assign(lines, place, [term], start=place if target in pending else None)
        pending.add(target)

    for slot in range(b - 1, a - 1, -1):
        if not whole and ((slot - a) % w == w - 1 or slot == b - 1):
            top = slot - (slot - a) % w
            _load_batch(plan, a, top, slot + 1, reaches, holder, names, lines, w)
        if not reaches[slot]:
            continue
        own = terms.pop(slot, [])
        if slot in pending:
            own = [(1, f"A[{names.index(slot)}]")] + own
        if slot == output_slot:
            own = [(1, "1.0")] + own
        if not own:
            continue
        bar = None
        if len(own) == 1 and _is_atom(own[0][1]):
            text = own[0][1]
            source = owner.get(text)
            # The same name, where it still holds the value when this adjoint is read.
            if whole or (_lasting(text) if source is None else source - slot < w):
                bar = own[0]
        if bar is None:
            name = f"t{slot - a}_bar" if whole else "b%d" % ((slot - a) % (2 * w))
            _assign(lines, name, own)
            bar = (1, name)
            owner[name] = slot
        node_args = nodes[slot - n].args
        partials = codes[slot - n].partials
        for position, arg in enumerate(node_args):
            if arg.__class__ is Const or not reaches[arg]:
                continue
            kind, factor, reads = partials[position]
            if factor is not None:
                args = [None] * (len(node_args) + 1)
                for k in reads:
                    x = node_args[k] if k < len(node_args) else slot
                    args[k] = _constant(x) if x.__class__ is Const else value(x, slot, k)
                factor = factor.format(*args)
            term = _scale(*bar, kind, factor)
            if whole or slot - (arg if arg >= a else lowest[arg]) < w:
                terms.setdefault(arg, []).append(term)
            else:
                contribute(arg, term)
        for arg in sorted(closing.get(slot, ()), reverse=True):      # slots before a, complete
            if arg in terms:
                target = f"x{arg}_bar" if whole else f"A[{names.index(arg)}]"
                _assign(lines, target, terms.pop(arg), start=target if arg in pending else None)
                pending.add(arg)
    for arg in sorted(terms, reverse=True):          # (none are left: every one closes above)
        target = f"x{arg}_bar" if whole else f"A[{names.index(arg)}]"
        _assign(lines, target, terms[arg], start=target if arg in pending else None)
        pending.add(arg)
    if whole:
        return lines, names
    return names.loads() + lines, names


def _load_batch(plan, a, top, end, reaches, holder, names, lines, w):
    """The slice load of the values that the partials of the reached slots in [top, end)
    read, from [top − 2w, end), into registers v{i mod 4w}, leaving out those whose
    register still holds them."""
    n, nodes, codes = plan.n, plan.nodes, plan.codes
    wanted = set()
    low = max(a, top - 2 * w)
    for slot in range(top, end):
        if not reaches[slot]:
            continue
        node_args = nodes[slot - n].args
        partials = codes[slot - n].partials
        for position, arg in enumerate(node_args):
            if arg.__class__ is Const or not reaches[arg] or partials[position][1] is None:
                continue
            for k in partials[position][2]:
                x = node_args[k] if k < len(node_args) else slot
                if x.__class__ is not Const and x >= low and holder.get((x - a) % (4 * w)) != x:
                    wanted.add(x)
    if not wanted:
        return
    first, last = min(wanted), max(wanted)
    targets = []
    for x in range(first, last + 1):
        if x in wanted:
            targets.append("v%d" % ((x - a) % (4 * w)))
            holder[(x - a) % (4 * w)] = x
        else:
            targets.append("_")
    lines.append(f"    {', '.join(targets)}, = V[{names.index(first)}:{names.index(last + 1)}]")


# ----------------------------------------------------------------------------- compiling

class Compiler:
    """Compiles segment texts into functions over one namespace, each distinct text once."""

    def __init__(self, namespace):
        self.namespace = {**namespace, "_raise_bad": _raise_bad}
        self.cache = {}
        self.compiled_segments = 0

    def function(self, header, lines, name="_segment", extra=None):
        """The function ``name`` that ``header`` and ``lines`` define, over the namespace
        (and ``extra`` names, which make it a function of its own, never shared)."""
        text = header + "\n" + "\n".join(lines) + "\n"
        function = None if extra else self.cache.get(text)
        if function is None:
            scope = dict(self.namespace, **(extra or {}))
            exec(compile(text, "<adcompare sweep>", "exec"), scope)   # our own text only: no user string
            function = scope[name]
            if not extra:
                self.cache[text] = function
            self.compiled_segments += 1
        return function


def _end_domain(lines, vectorised):
    """A segment's domain flag: raised on at once for one point, returned for many."""
    if vectorised:
        lines.append("    return inside")
    else:
        lines.append("    if not inside:\n        _raise_bad()")


def finite_sum(results):
    """The text of one sum whose finiteness says all ``results`` (texts) are finite: a NaN
    or ±∞ anywhere makes it non-finite (a finite sum that overflows only sends the call to
    the slower path); None when there is nothing to check."""
    results = [r for r in results if not _is_number(r)]
    if not results:
        return None
    return " + ".join(results) if len(results) <= 8 else f"sum(({', '.join(results)},))"


def _end_check(lines, results):
    """One point, one function: the domain flag and one isfinite of a sum of the results."""
    total = finite_sum(results)
    lines.append(f"    if not (inside and isfinite({total or '0.0'})):\n        _raise_bad()")


def _is_number(text):
    try:
        float(text)
        return True
    except ValueError:
        return False


def _whole_name(plan, slot):
    """A slot's name in a sweep of one function."""
    return f"x{slot}" if slot < plan.n else f"t{slot - plan.n}"


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


def _one_function(compiler, params, lines):
    """A one-function sweep, compiled at its first call (`entry` may make the only one)."""
    compiled = []

    def function():
        if not compiled:
            compiled.append(compiler.function(f"def _segment({', '.join(params)}):", lines))
        return compiled[0]
    return function


def build_forward(plan, compiler, vectorised, directions, values=True):
    """The tangent (or, with no directions, primal) sweep as a callable:
    ``run(inputs, seeds) -> (outputs, tangents per direction per output, inside)``;
    ``seeds[d][j]`` are the values for inputs whose pattern is "seed". ``values=False``:
    the outputs' values are not computed (outputs is None), only what the tangents read.
    A graph of one segment is one function (``run.function()``, compiled at the first call),
    whose parameters, lines, results to check and derivatives ``run.body`` holds for `entry`."""
    n, graph = plan.n, plan.graph
    outputs = graph.outputs
    state = [[None] * plan.size for _ in directions]
    for d, seeds in enumerate(directions):
        for j in range(n):
            if seeds[j] == "1.0":
                state[d][j] = (1, "1.0")
            elif seeds[j] == "seed":
                state[d][j] = (1, f"x{j}_d{d}")
    # Tangents of the slots some output depends on; partials of the arguments whose tangent
    # can be nonzero.
    wanted = reaching(plan, outputs) if directions else bytes(plan.size)
    carries = carrying(plan, [j for j in range(n) if any(seeds[j] is not None for seeds in directions)])
    keep_values = values or not directions
    needed = needed_values(plan, wanted, carries, outputs if keep_values else ())
    whole = None
    if plan.small:
        a, b = n, plan.size
        whole_state = [list(s) for s in state]
        lines, names = forward_segment(plan, a, b, needed, directions, whole_state, wanted, whole=True)
        params = [f"x{j}" for j in range(n)] + [f"x{j}_d{d}" for d, seeds in enumerate(directions)
                                                  for j in range(n) if seeds[j] == "seed"]
        if fits(params, lines, outputs * (1 + len(directions))):
            whole, state = lines, whole_state
    if whole is not None:
        value_names = [_whole_name(plan, s) for s in outputs] if keep_values else []
        tangents = [[_tangent_text(state[d][s]) for s in outputs] for d in range(len(directions))]
        # Seed values may be arrays (vector forward mode): their tangents are the caller's to check.
        results = value_names + [t for d in range(len(directions)) if "seed" not in directions[d]
                                 for t in tangents[d]]
        body = list(lines)
        if not vectorised:
            _end_check(lines, results)
        value_text = f"({', '.join(value_names)},)" if value_names else "None"
        tangent_text = "".join(f"({', '.join(t)},), " for t in tangents).rstrip()
        lines.append(f"    return {value_text}, ({tangent_text}), inside")
        function = _one_function(compiler, params, lines)
        seeded = [(d, j) for d, seeds in enumerate(directions) for j in range(n) if seeds[j] == "seed"]

        def run(inputs, seeds=()):
            return function()(*inputs, *[seeds[d][j] for d, j in seeded])
        run.function = function
        run.body = (params, body, results, tangents)
        return run
    functions = []
    for a, b in plan.bounds:
        lines, _ = forward_segment(plan, a, b, needed, directions, state, wanted)
        _end_domain(lines, vectorised)
        functions.append((compiler.function("def _segment(V, T, a):", lines), a))
    final = [[state[d][s] for s in outputs] for d in range(len(directions))]
    size = plan.size
    rest = (None,) * (size - n)

    def run(inputs, seeds=()):
        V = [*inputs, *rest]
        T = [[*(seeds[d] if seeds else [None] * n), *rest] for d in range(len(directions))]
        inside = True
        for function, a in functions:
            flag = function(V, T, a)
            if vectorised and flag is not True:
                inside = inside & flag
        tangents = tuple(tuple(_stored(state, V, T[d], s) for state, s in zip(final[d], outputs))
                         for d in range(len(directions)))
        return (tuple(V[s] for s in outputs) if keep_values else None), tangents, inside
    run.function = None
    run.body = None
    run.segments = [f for f, _ in functions]
    return run


def build_reverse(plan, compiler, vectorised, output=0, value=True):
    """The reverse sweep of output ``output`` as ``run(inputs) -> (value, gradient, inside)``;
    ``value=False``: the output's value is not computed (value is None), only what the
    adjoints read. A graph of one segment is one function, as in `build_forward`."""
    n, graph = plan.n, plan.graph
    out = graph.outputs[output]
    reaches = reaching(plan, [out])
    needed = needed_values(plan, reaches, reaches, [out] if value else ())
    pending = set()
    lines = None
    if plan.small:
        a, b = n, plan.size
        lines, names = forward_segment(plan, a, b, needed, whole=True)
        lines += reverse_segment(plan, a, b, out, reaches, pending, whole=True)[0]
        if not fits(range(n), lines, range(n)):
            lines, pending = None, set()
    if lines is not None:
        gradient = ["1.0" if j == out else f"x{j}_bar" if j in pending else "0.0" for j in range(n)]
        value_names = [_whole_name(plan, out)] if value else []
        results = value_names + gradient
        body = list(lines)
        if not vectorised:
            _end_check(lines, results)
        gradient_text = f"({', '.join(gradient)}{',' if n == 1 else ''})"
        lines.append(f"    return {value_names[0] if value else 'None'}, {gradient_text}, inside")
        params = [f"x{j}" for j in range(n)]
        function = _one_function(compiler, params, lines)

        def run(inputs):
            return function()(*inputs)
        run.function = function
        run.body = (params, body, results, gradient)
        return run
    forward = []
    for a, b in plan.bounds:
        lines, _ = forward_segment(plan, a, b, needed, store="all")
        _end_domain(lines, vectorised)
        forward.append((compiler.function("def _segment(V, T, a):", lines), a))
    backward = []
    for a, b in reversed(plan.bounds):
        if not any(reaches[a:b]):
            continue
        lines, _ = reverse_segment(plan, a, b, out, reaches, pending)
        backward.append((compiler.function("def _segment(V, A, a):", lines or ["    pass"]), a))
    size = plan.size
    fixed = [(j, 1.0 if j == out else 0.0) for j in range(n) if j not in pending]
    rest = (None,) * (size - n)

    def run(inputs):
        V = [*inputs, *rest]
        inside = True
        for function, a in forward:
            flag = function(V, None, a)
            if vectorised and flag is not True:
                inside = inside & flag
        A = [None] * size
        for function, a in backward:
            function(V, A, a)
        gradient = A[:n]
        for j, constant in fixed:       # inputs no path reaches (0), or the output itself (1)
            gradient[j] = constant
        return (V[out] if value else None), tuple(gradient), inside
    run.function = None
    run.body = None
    run.segments = [f for f, _ in forward] + [f for f, _ in backward]
    return run


# ----------------------------------------------------------------------------- entry points

ENTRY_ERRORS = (ArithmeticError, ValueError, TypeError)   # math's errors, BadValue; an array among floats


def entry(plan, compiler, run, kind, general):
    """The function that `CompiledGraph.gradient` (``kind`` "gradient", ``run`` a gradient
    sweep) or `CompiledGraph.jacobian_forward` ("jacobian", ``run`` a unit-seeded tangent
    sweep) becomes at its first call at a point of floats: the sweep itself, behind one test
    that the first input is a float (the first input's type chooses the variant). Anything
    else (arrays, another output, a bad value, a non-finite result, an error the math
    module raises) goes to ``general(*inputs)``, the method's general path, which names it.
    So the call costs the sweep and almost nothing around it. A graph of one segment gets
    the sweep's lines in a function of their own; a longer one a small Python function."""
    n, m = plan.n, len(plan.graph.outputs)
    gradient = kind == "gradient"
    if run.body is None:
        return _segmented_entry(run, gradient, n, m, general)
    params, body, results, derivatives = run.body
    arguments = ", ".join(params)
    handed = f"{arguments}, output=output" if gradient else arguments
    if gradient:
        result = f"({', '.join(derivatives)}{',' if n == 1 else ''})"
    else:
        result = "[" + ", ".join("[" + ", ".join(derivatives[j][k] for j in range(n)) + "]" for k in range(m)) + "]"
    lines = [f"    if {'output or ' if gradient else ''}type(x0) is not float:",
             f"        return _general({handed})",
             "    try:",
             *("    " + line.replace("\n", "\n    ") for line in body),
             f"        if inside and isfinite({finite_sum(results) or '0.0'}):",
             f"            return {result}",
             "    except _ERRORS:",
             "        pass",
             f"    return _general({handed})"]
    name = "gradient" if gradient else "jacobian_forward"
    header = f"def {name}({arguments}{', *, output=0' if gradient else ''}):"
    return compiler.function(header, lines, name=name, extra={"_general": general, "_ERRORS": ENTRY_ERRORS})


def _segmented_entry(run, gradient, n, m, general):
    from math import isfinite

    if gradient:
        def entry(*inputs, output=0):
            if output or len(inputs) != n or type(inputs[0]) is not float:
                return general(*inputs, output=output)
            try:
                derivatives = run(inputs)[1]
                if isfinite(sum(derivatives)):
                    return derivatives
            except ENTRY_ERRORS:
                pass
            return general(*inputs, output=output)
        return entry

    def entry(*inputs):
        if len(inputs) != n or type(inputs[0]) is not float:
            return general(*inputs)
        try:
            columns = run(inputs)[1]
            rows = [[columns[j][k] for j in range(n)] for k in range(m)]
            if isfinite(sum(x for row in rows for x in row)):
                return rows
        except ENTRY_ERRORS:
            pass
        return general(*inputs)
    return entry
