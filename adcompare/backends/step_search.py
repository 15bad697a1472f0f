"""Finite differences' step search for one variable at one point: the ladder of steps
h·2⁻ᵏ, evaluated point by point within a budget, the candidates it finds, and the choice
among them (see `adcompare.backends.finite_difference` for the method and its sources).
"""

import math

import numpy as np

from ..errors import DomainError
from ..graph import evaluate, evaluate_where_defined, quiet, singular_sides
from ..rounding import float_error_bounds
from . import output_values
from .stencils import (FIRST_JUMP, balance_levels, candidate_at, contradicts, done, jumps,
                       ladder_points, step_size, unit_scale_level)

MAX_EVALUATIONS = 40
"""The budget of the search: evaluations of f per variable, besides f(x)."""
MAX_LEVEL = 1100   # h·2⁻¹¹⁰⁰ is below the smallest float: the budget ends the search first


class Exhausted(Exception):
    """The search's budget of evaluations is spent."""


class Ladder:
    """f on the ladder of one variable at one point: each point evaluated once (and counted),
    with its status: usable, or why not ('domain', 'overflow', 'kink', 'pole')."""

    def __init__(self, graph, point, j, h, center_sides, ignore_sides=False):
        self.graph, self.point, self.j, self.h = graph, point, j, h
        self.center_sides = center_sides
        self.ignore_sides = ignore_sides
        self.F, self.O, self.status, self.errors = {}, {}, {}, {}
        self.known = {}              # ladder points evaluated beforehand (`evaluate_together`)
        self.spent = 0
        self.overflowed = False      # some quotient was not finite though f's values were

    def offset(self, key):
        axis, level = key
        nominal = self.h * 2.0 ** -level
        if axis == "i":
            return nominal
        return (self.point[self.j] + axis * nominal) - self.point[self.j]

    def shifted(self, key):
        """The point x + offset·eⱼ of a ladder point, or None where the step has vanished: a
        step that rounding moves by more than 5% (a few ulps of x), or a complex step in
        the subnormal range, is below what the ladder can use."""
        axis, level = key
        offset, nominal = self.offset(key), self.h * 2.0 ** -level
        if nominal == 0 or (axis == "i" and nominal < 1e-290) or \
                (axis != "i" and abs(offset - axis * nominal) > 0.05 * nominal):
            return None
        shifted = list(self.point)
        shifted[self.j] = self.point[self.j] + (1j * offset if axis == "i" else offset)
        return shifted

    def get(self, key):
        """The status of one ladder point, evaluating it first if needed (or reading it from
        ``known``, where `evaluate_together` evaluated it beforehand: it counts when read)."""
        if key in self.status:
            return self.status[key]
        shifted = self.shifted(key)
        if shifted is None:
            self.status[key] = "vanished"
            return "vanished"
        if self.spent >= MAX_EVALUATIONS:
            raise Exhausted()
        self.spent += 1
        known = self.known.pop(key, None)
        if known is None:
            try:
                values = evaluate(self.graph, shifted)
            except DomainError as error:
                known = error
            else:
                known = (np.array(output_values(self.graph, values)),
                         [tuple(np.ravel(np.real(side))) for _, _, side in singular_sides(self.graph, values)])
        if isinstance(known, DomainError):
            self.errors[key] = known
            self.status[key] = "overflow" if known.kind == "overflow" else "domain"
            return self.status[key]
        outputs, sides = known
        status = "ok"
        if not self.ignore_sides:
            for (_, kind, here), there in zip(self.center_sides, sides):
                if here != there:
                    status = kind
                    break
        self.F[key] = outputs
        self.O[key] = self.offset(key)
        self.status[key] = status
        return status

    def usable(self, keys):
        """None when every point is usable, else the first reason one is not (evaluating in
        order and stopping at the first that fails)."""
        for key in keys:
            status = self.get(key)
            if status != "ok":
                return status
        return None


FALLBACK_WORDS = {"domain": "leaves the domain", "overflow": "makes f overflow",
                  "kink": "straddles a kink", "pole": "straddles a pole",
                  "vanished": "has a step below the spacing of floats at x",
                  "jump": "straddles a jump in slope (a kink inside smooth operations, as √(x²) at 0)",
                  "coarse": "is too coarse: truncation dominates its error estimate (the function changes "
                            "faster than the step resolves)"}


def own_candidate(ladder, method, level, center, noise, x, graph, point, j):
    """(candidate or None, why not): the method's own stencil at ``level``."""
    reason = ladder.usable(ladder_points(method, level))
    if reason is not None:
        return None, reason
    F, O = ladder.F, ladder.O
    if method == "complex-step":
        shifted = list(point)
        shifted[j] = point[j] + 1j * O[("i", level)]
        _, _, imag = float_error_bounds(graph, shifted)
        noise = np.array([imag[slot] for slot in graph.outputs], dtype=float)
    candidate = candidate_at(method, F, O, center, level, noise)
    ladder.overflowed |= not np.all(np.isfinite(candidate.value))
    if method != "complex-step" and not ladder.ignore_sides and np.any(jumps(F, O, method, level, center, candidate,
                                                                               x, noise)):
        candidate.irregular = True      # usable only if nothing else is, with an infinite estimate
        return candidate, "jump"
    return candidate, None


def one_sided_candidates(ladder, level, center, noise, x):
    """The one-sided second-order candidates at ``level`` on each side whose points are
    usable and whose slopes do not jump."""
    found = []
    for side, stencil in ((1, "one-sided forward"), (-1, "one-sided backward")):
        if ladder.usable(ladder_points(stencil, level)) is None:
            candidate = candidate_at(stencil, ladder.F, ladder.O, center, level, noise)
            jumped = jumps(ladder.F, ladder.O, stencil, level, center, candidate, x, noise)
            if np.all(np.isfinite(candidate.value)) and not np.any(jumped):
                found.append(candidate)
    return found


class Search:
    """The step search for one variable at one point (see the module doc): the ladder, the
    candidates found, and the bracket of levels known too coarse (unusable, irregular or
    dominated by truncation) and too fine (dominated by rounding, or a step below the spacing
    of floats)."""

    def __init__(self, graph, point, j, method, center, center_sides, noise, at_kink):
        self.graph, self.point, self.j, self.method = graph, point, j, method
        self.center, self.noise, self.x = center, noise, point[j]
        self.ladder = Ladder(graph, point, j, step_size(self.x, method), center_sides,
                              ignore_sides=at_kink or method == "complex-step")
        self.regular, self.irregular, self.unusable = [], [], []
        self.coarse, self.fine, self.visited = -1, MAX_LEVEL + 1, set()
        self.fallback = None
        self.edge_within_step = False     # `run`: the chosen one-sided step is wider than the distance to a domain edge

    def own(self, level):
        return own_candidate(self.ladder, self.method, level, self.center, self.noise, self.x, self.graph,
                              self.point, self.j)

    def explore(self, level):
        """Probe levels from ``level`` until one is balanced (`done`), the bracket closes or
        the budget is spent."""
        x, jump = self.x, FIRST_JUMP
        small_x_level = int(round(-math.log2(abs(x)))) if self.method != "complex-step" and 0 < abs(x) < 1 else None
        while True:
            self.visited.add(level)
            own, reason = self.own(level)
            if reason == "jump":
                self.irregular.append(own)
                own = None
            if level == 0 and own is None:
                self.fallback = reason
                # At a kink the one-sided stencils are the remedy, not smaller steps; a
                # domain edge or an overflow within the base step is passed by smaller ones.
                if self.method == "complex-step" or (self.ladder.ignore_sides and reason not in ("domain", "overflow")):
                    return
            if own is not None and own.regular:
                self.regular.append(own)
                shift = balance_levels(own)
                if not bool(done(own)):
                    self.coarse = level
                    next_level = level + max(1, shift)
                elif shift < -1 and level - self.coarse > 1 and own.key <= min(c.key for c in self.regular):
                    self.fine = level              # dominated by rounding, with room above: step back up
                    next_level = max(self.coarse + 1, level + shift)
                else:
                    return
            else:
                if reason == "vanished":
                    self.fine = min(self.fine, level)
                else:
                    self.coarse = max(self.coarse, level)
                    (self.irregular.append(own) if own is not None else self.unusable.append(level))
                if small_x_level is not None and self.coarse < small_x_level < self.fine \
                        and small_x_level not in self.visited:
                    next_level = small_x_level
                else:
                    next_level, jump = level + jump, jump * 2
            if next_level >= self.fine:
                next_level = (self.coarse + self.fine) // 2
            if next_level in self.visited or not self.coarse < next_level < self.fine or next_level > MAX_LEVEL:
                return
            level = next_level

    def contradicted(self, best, level):
        """Whether the central quotient at ``level`` disagrees with ``best`` (`contradicts`)."""
        if self.ladder.usable([(1, level), (-1, level)]) is not None:
            return False
        F, O = self.ladder.F, self.ladder.O
        step = (O[(1, level)] - O[(-1, level)]) / 2
        return bool(contradicts(F[(1, level)], F[(-1, level)], step, self.center, self.noise, best))

    def run(self):
        """(the chosen candidate or None, the fallback reason, the ladder)."""
        try:
            self.explore(0)
            self.one_sided()
            # The base step assumes f varies on the scale of |x|. Where |x| is large, one
            # quotient at the unit scale checks it (x + cos(x) at 1e12: the base step spans
            # 10⁵ periods, and its quotients, all 1 ± 1e-7, look converged).
            unit = int(unit_scale_level(self.x, self.ladder.h, self.noise, self.method))
            best = min(self.regular, key=lambda c: c.key) if self.regular else None
            if best is not None and unit >= 0 and best.level <= unit - 2 and unit not in self.visited:
                if self.contradicted(best, unit):
                    self.irregular += self.regular
                    self.regular, self.unusable = [], []
                    self.coarse, self.fine = max(self.coarse, unit - 1), MAX_LEVEL + 1
                    self.explore(unit)
                    self.one_sided()
        except Exhausted:
            pass
        best = choose(self.regular, self.irregular)
        fallback = self.fallback
        if best is None:
            return None, fallback, self.ladder
        if best.stencil == self.method and best.level == 0:
            fallback = None
        elif fallback is None:
            fallback = "coarse"
        if fallback == "domain" and best.stencil.startswith("one-sided"):
            # Whether the point one step on the other side is outside the domain: then the
            # edge is closer than the step, where f's slope may be singular (acos(|x + 2|)
            # at −3 + 4.4e-16, one ulp from the edge, at a step of 4.4e-15), and the
            # stencil's truncation part is no estimate.
            side = 1 if best.stencil == "one-sided forward" else -1
            try:
                self.edge_within_step = self.ladder.usable([(-side, best.level)]) == "domain"
            except Exhausted:
                self.edge_within_step = True
        return best, fallback, self.ladder

    def one_sided(self):
        """One-sided stencils, the remedy where f changes character on one side: at the base
        level when the base stencil left the domain or straddled a kink, a pole or a jump
        (σ(|ln|x||) at 1e-168 is 1/(1 + x) on x's side of the kink at 0, smooth on the scale
        of 1, while steps below x see nothing but the rounding of 1); and, where the
        method's stencil resolved f nowhere, at the deepest two levels where it could not be
        used. Not across an overflow, where f is defined on both sides: from the far side,
        structure on the near one is invisible (x + ln(1 + exp(c − x)) beyond c is exactly
        linear in floats, while its derivative at c + 15 is not 1)."""
        levels = sorted(self.unusable, reverse=True)[:2] if not self.regular else []
        if self.fallback in ("domain", "kink", "pole", "jump") and 0 not in levels:
            levels.append(0)
        for level in levels:
            for candidate in one_sided_candidates(self.ladder, level, self.center, self.noise, self.x):
                (self.regular if candidate.regular else self.irregular).append(candidate)


def choose(regular, irregular):
    """The candidate to answer with. Among regular candidates, each estimate is checked
    against those from steps no larger: if both claims held, |D₁ − D₂| could not exceed the
    sum of their estimates, so a candidate whose estimate is smaller than |D₁ − D₂| − e₂ is
    wrong (the quotients of a step spanning many periods can look regular by chance), and
    its estimate becomes |D₁ − D₂| + e₂, which holds if the other's does. The smallest
    estimate so checked wins. With no regular candidate, the least bad irregular one is returned with an
    infinite estimate: no step on the ladder resolved f."""
    finite = [c for c in irregular if np.all(np.isfinite(c.value))]
    if not regular:
        if not finite:
            return None
        best = min(finite, key=lambda c: c.key)
        best.truncation = np.full(np.shape(best.value), np.inf)
        return best
    claimed = [c.estimate for c in regular]
    for c, own in zip(regular, claimed):
        checked = own
        with quiet():
            for other, theirs in zip(regular, claimed):
                # Of two claims that contradict each other, the one from the larger step gives
                # way (a coarse step aliases what a fine one resolves; a fine step's rounding
                # is in its own claim); of equal steps, both.
                if other is not c and np.all(c.step >= other.step):
                    gap = np.abs(c.value - other.value)
                    checked = np.where(checked < gap - theirs, np.maximum(checked, gap + theirs), checked)
        c.truncation = c.truncation + (checked - own)
    return min(regular, key=lambda c: c.key)


def note(best, fallback, method, variable_name, ladder):
    """What was done instead of the base stencil, in a sentence (None when it was the answer)."""
    if fallback is None:
        return None
    why = FALLBACK_WORDS[fallback]
    if fallback in ("domain", "overflow"):
        error = next((e for e in ladder.errors.values()), None)
        if error is not None:
            why += f" ({error})"
    if best.stencil == method:
        what = f"{method} with h = {float(best.step):.3g}"
    else:
        what = f"one-sided ({best.stencil.split()[1]}) second-order stencil with h = {float(best.step):.3g}"
    return (f"{what}, the step of smallest error estimate on the ladder h·2⁻ᵏ: the {method} stencil in "
            f"{variable_name} with its base step {why}")


def no_stencil(variable, fallback, ladder):
    """The error (and its kind) of a column no stencil could make."""
    if ladder.overflowed:
        return {"error": f"every difference quotient in {variable} overflows: the derivative is beyond the "
                         "range of floats", "error_kind": "overflow"}
    error = next((e for e in ladder.errors.values()), None)
    why = f"({error})" if error is not None else f"(every stencil {FALLBACK_WORDS.get(fallback, fallback)})"
    kind = "overflow" if error is not None and error.kind == "overflow" else "domain"
    return {"error": f"no stencil in {variable} stays inside the domain {why}", "error_kind": kind}


def noise_at(graph, point, j, offsets):
    """The largest bound δ on the rounding error of f's outputs at the points x + offset·eⱼ
    (`adcompare.rounding.float_error_bounds`): δ at x alone can miss what the stencil's points
    carry (ln(cosh(x3))^x1 at x1 = 0 is exactly 1, while at x1 = ±h the 9% error of
    ln(cosh(1e-7)) shows)."""
    largest = 0.0
    for offset in offsets:
        shifted = list(point)
        shifted[j] = point[j] + offset
        _, real, _ = float_error_bounds(graph, shifted)
        largest = np.maximum(largest, np.array([np.broadcast_to(real[slot], np.shape(real[slot])) for slot in graph.outputs],
                                               dtype=float))
    return largest


def noise_at_points(graph, point, requests):
    """`noise_at` at one point of floats for each (j, offsets) of ``requests``, all the
    shifted points analysed at once: one by one in floats up to ARRAYS_FROM points, else
    together over arrays (the same floats either way)."""
    shifted = []
    for j, offsets in requests:
        for offset in offsets:
            shifted.append(list(point))
            shifted[-1][j] = point[j] + offset
    bounds = []
    if len(shifted) < ARRAYS_FROM:
        for one in shifted:
            _, real, _ = float_error_bounds(graph, one)
            bounds.append(np.array([real[slot] for slot in graph.outputs], dtype=float))
    else:
        for batch in batches(graph, shifted):
            arrays = tuple(np.array([float(one[i]) for one in batch]) for i in range(graph.n_inputs))
            _, real, _ = float_error_bounds(graph, arrays)
            bounds += list(np.array([np.broadcast_to(real[slot], (len(batch),)) for slot in graph.outputs]).T)
    bounds = iter(bounds)
    return [np.max([next(bounds) for _ in offsets], axis=0) for _, offsets in requests]


ARRAYS_FROM = 16
"""From this many points on, `noise_at_points` analyses them together over arrays: a pass
with one numpy call per step costs about as much as sixteen passes in floats, one a point."""
BATCH_VALUES = 1 << 22
"""The most slot values held at once where many points are evaluated together (slots ×
points): 32 MB of floats."""


def batches(graph, points):
    """``points`` cut into runs of at most BATCH_VALUES / slots (at least one each)."""
    size = max(1, BATCH_VALUES // graph.size)
    return [points[start:start + size] for start in range(0, len(points), size)]


def evaluate_together(graph, ladders, keys):
    """Evaluate ``keys`` of every ladder in ``ladders`` (one point of floats, one variable
    each) in passes over arrays of points, and give each ladder what `Ladder.get` would
    find: f's outputs and the sides of its kinks and poles, or the DomainError of a point
    where f is not defined (evaluated alone again, for its message). The same floats as
    evaluating each point alone; the search counts a point when it reads it. Complex
    points (the complex step) are left to the ladder: mixed with real ones they would be
    evaluated in complex arithmetic."""
    wanted = []
    for ladder in ladders:
        for key in keys:
            shifted = None if key[0] == "i" or key in ladder.status else ladder.shifted(key)
            if shifted is not None:
                wanted.append((ladder, key, shifted))
    for batch in batches(graph, wanted):
        count = len(batch)
        arrays = tuple(np.array([float(shifted[i]) for _, _, shifted in batch]) for i in range(graph.n_inputs))
        values, defined = evaluate_where_defined(graph, arrays)
        outputs = np.array([np.broadcast_to(value, (count,)) for value in output_values(graph, values)])
        sides = [np.broadcast_to(np.real(side), (count,)) for _, _, side in singular_sides(graph, values)]
        defined = np.broadcast_to(defined, (count,))
        for k, (ladder, key, shifted) in enumerate(batch):
            if defined[k]:
                ladder.known[key] = (outputs[:, k], [(side[k],) for side in sides])
                continue
            try:
                evaluate(graph, shifted)
            except DomainError as error:
                ladder.known[key] = error
