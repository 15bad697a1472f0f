"""What a report over many points shows, as format-independent blocks (see `layout`):
the points, the cross-check summarised per method and entry, the cost, the points where
finite differences fell back to the single-point path, and the worst disagreeing points
with the explanation a single-point run gives each. No traces: nobody reads 10⁶ of them.

    >>> import numpy as np
    >>> from adcompare import trace
    >>> from adcompare.render.text import render_report
    >>> print(render_report(trace("x*y", at={"x": np.array([1.0, 2.0]), "y": 3})).splitlines()[1])
    at 2 points: x from 1 to 2, y = 3
"""

from .layout import (BLANK, METHOD_TITLES, Cell, Note, Table, _error_cell, cost_table, derivative,
                     disagreement_notes, function_note, point_parts, skipped_notes)
from ..formula import Var
from ..graph import point_index

FALLBACK_REASONS = ("a stencil point left the domain, straddled a kink or a pole, or showed a jump in slope, "
                    "the quotients converged too slowly as the step shrank, or the point is at a kink")


def _where_note(report):
    graph = report.graph
    shape = "" if len(report.shape) == 1 else f" (an array of shape {report.shape})"
    parts = [f"at {report.n_points:,} points{shape}"]
    for i, (low, high) in enumerate(report.ranges()):
        parts += [": " if i == 0 else ", ", Cell("quantity", Var("x", i))]
        parts += [" = ", Cell("exact", low)] if low == high else [" from ", Cell("exact", low), " to ",
                                                                  Cell("exact", high)]
    return Note(tuple(parts))


def precision_notes(report):
    """Where the symbolic method ran: its values here are float64, not high precision."""
    result = report.results.get("symbolic")
    if result is None or result.details.get("precision") != "float64":
        return []
    return [Note(("The symbolic reference over many points is sympy's derivatives evaluated in float64 at each "
                  "point (for a single point they are evaluated to 30 significant digits).",))]


def cross_check_table(report):
    """Per entry and method: largest errors, the worst point, how many points disagree."""
    comparison = report.comparison
    title = f"Cross-check against {METHOD_TITLES[comparison.reference]}"
    if report.results[comparison.reference].details.get("precision") == "float64":
        title += " in float64"
    title += f", at {report.n_points:,} points"
    rows = []
    entry = None
    for summary in comparison.summaries:
        if (summary.output, summary.variable) != entry:
            entry = (summary.output, summary.variable)
            rows.append((Cell("formula", derivative(summary.output, summary.variable)),
                         Cell("text", METHOD_TITLES[comparison.reference]), BLANK, BLANK, BLANK, BLANK, BLANK,
                         Cell("text", "reference")))
        worst = "—" if summary.worst_point is None else point_index(summary.worst_point)
        rows.append((BLANK, Cell("text", METHOD_TITLES[summary.method]), _error_cell(summary.max_abs_error),
                     _error_cell(summary.max_rel_error), Cell("text", worst),
                     Cell("text", f"{summary.tolerance.rtol:g} rel + {summary.tolerance.atol:g}"),
                     Cell("text", f"{summary.disagreeing:,}"),
                     Cell("text", "ok" if summary.disagreeing == 0 else "MISMATCH")))
    return Table((title,), (tuple(rows),), headers=("", "method", "max abs error", "max rel error", "worst point",
                                                    "tolerance", "points out", ""))


def fallback_notes(report):
    """How many points finite differences computed one at a time, and why."""
    result = report.results.get("finite_difference")
    if result is None or result.error is not None or not result.details.get("fallback_points"):
        return []
    count = result.details["fallback_points"]
    return [Note((f"Finite differences: {count:,} of {report.n_points:,} points used the single-point path "
                  f"({FALLBACK_REASONS}).",))] + [Note((f"Finite differences: {note}.",))
                                                  for note in result.details.get("notes", ())]


def worst_point_notes(report):
    """Each of the worst disagreeing points, run alone, with its explanation."""
    comparison = report.comparison
    notes = []
    if comparison.points_at_kink:
        count = comparison.points_at_kink
        notes.append(Note((f"Not differentiable at {count:,} point{'s' if count != 1 else ''}: an operation is at a "
                           "kink there, where the methods may each return a different one-sided derivative.",)))
    if comparison.worst:
        count = comparison.points_disagreeing
        shown = len(comparison.worst)
        which = (f"The worst {shown} of {count:,} points where the methods do not all agree, each" if shown < count
                 else "The points where the methods do not all agree, each" if count > 1
                 else "The point where the methods do not all agree,")
        notes.append(Note((f"{which} run alone as a single point:",)))
    for position, single in comparison.worst:
        if isinstance(single, Exception):
            notes.append(Note((f"Point {point_index(position)}: ",
                               *point_parts(report.graph, report.coordinates(position)))))
            notes.append(Note((f"Run alone, it is refused: {single}",)))
            continue
        notes.append(Note((f"Point {point_index(position)}: ", *point_parts(report.graph, single.point))))
        explained = disagreement_notes(single)
        notes += explained or [Note(("All methods agree at this point run alone: the array run differed from it "
                                     "by rounding.",))]
    return notes


def state_notes(report):
    """How many points are in each state, and why the inconclusive ones are (each reason
    with its number of points and the first of them)."""
    comparison = report.comparison
    counts = comparison.state_counts()
    if counts["agree"] == report.n_points:
        return []
    words = {"agree": "agree", "disagree": "disagree", "not-differentiable": "not differentiable",
             "inconclusive": "inconclusive"}
    notes = [Note(("Points by state: " + ", ".join(f"{count:,} {words[state]}" for state, count in counts.items()
                                                    if count) + ".",))]
    for reason, count, first in comparison.reasons:
        notes.append(Note((f"Inconclusive at {count:,} point{'s' if count != 1 else ''}: {reason}; the first is "
                           f"point {point_index(first)}: ", *point_parts(report.graph, report.coordinates(first)))))
    return notes


def verdict_note(report):
    """The verdict over all points, as the cross-check decided it."""
    verdict = report.comparison.verdict
    return Note((f"Verdict: {verdict.summary}",))


def points_blocks(report):
    """Every block of a `PointsReport`, in order."""
    blocks = [function_note(report.graph), _where_note(report), *precision_notes(report)]
    if report.comparison.summaries:
        blocks.append(cross_check_table(report))
    blocks.append(cost_table(report, "Cost (one call over all points)"))
    blocks += fallback_notes(report)
    blocks += [Note((f"{METHOD_TITLES[method]} could not be computed: {error}",))
               for method, error in report.comparison.failures.items()]
    blocks += skipped_notes(report.comparison)
    return blocks + state_notes(report) + worst_point_notes(report) + [verdict_note(report)]
