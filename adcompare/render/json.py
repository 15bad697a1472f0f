"""The Report as JSON for scripts: full precision everywhere, names as in the text traces.

Keys: ``expression``, ``variables``, ``outputs`` (their names), ``point``, ``value``, ``methods`` (keyed
``finite_difference``, ``symbolic``, ``forward``, ``reverse``; each with ``gradient`` for
one output, ``jacobian``, ``cost``, ``error`` and its ``trace`` rows), ``comparison`` and
``agree``. Symbolic values are given as decimal strings with all their digits and as floats.

The document is strict JSON (RFC 8259), which has no infinities or NaN: a number that is not
finite — an infinite error estimate (no finite-difference step resolved f), a relative error
against a zero reference — is written as the string ``"Infinity"``, ``"-Infinity"`` or
``"NaN"``, which Python's ``float()`` and JavaScript's ``Number()`` read back.
"""

import json
import math

import mpmath

from .style import TEXT, full_precision, output_names, quantity_name, render_formula
from .text import describe_slot


def _number(value):
    return float(value)


def _rows(graph, rows):
    out = []
    for row in rows:
        item = {"name": quantity_name(row.target, graph), "section": row.section,
                "definition": render_formula(row.definition, graph, TEXT, digits=17)}
        if row.local is not None:
            item["local"] = render_formula(row.local, graph, TEXT, digits=17)
        if row.substituted is not None:
            item["substituted"] = render_formula(row.substituted, graph, TEXT, digits=17)
        item["value"] = _number(row.value)
        out.append(item)
    return out


def _cost(result):
    return {"primal_evaluations": result.cost.primal_evaluations, "sweeps": result.cost.sweeps,
            "operations": result.cost.operations}


def _method(graph, result):
    item = {"error": result.error, "cost": _cost(result)}
    if result.jacobian is not None:
        jacobian = [[_number(d) for d in row] for row in result.jacobian]
        item["jacobian"] = jacobian
        if len(jacobian) == 1:
            item["gradient"] = jacobian[0]
    if result.method == "symbolic":
        item["derivatives"] = [[str(d) for d in row] for row in result.details["derivatives"]]
        if result.jacobian is not None:
            digits = result.details["digits"]
            item["jacobian_digits"] = [[mpmath.nstr(d, digits) for d in row] for row in result.jacobian]
        item["trace"] = []
    elif result.method == "finite_difference":
        item["method"] = result.details["method"]
        item["estimate_evaluations"] = result.details.get("estimate_evaluations", 0)
        item["trace"] = [{"variable": graph.variables[r.variable], "step": r.step, "f_plus": list(r.plus),
                          "f_minus": list(r.minus), "estimate": list(r.estimate),
                          "error_estimate": list(r.error_estimate), "stencil": r.stencil}
                         for r in result.details.get("rows", ())]
    else:
        item["trace"] = [{"kind": s.kind, "seed": None if s.seed is None else s.seed,
                          "rows": _rows(graph, s.rows)} for s in result.sweeps]
    return item


def _reference_digits(value, method, report):
    """A reference value as a decimal string with all the digits it was computed to."""
    if method == "symbolic":
        return mpmath.nstr(value, report.results["symbolic"].details["digits"])
    if method == "numerical":
        return mpmath.nstr(value, 50)
    if isinstance(value, mpmath.mpf):
        return mpmath.nstr(value, 17)
    return full_precision(value)


def _entry(graph, comparison, entry, report):
    """One Jacobian entry: its reference (None where the function is not differentiable),
    what gave it, every check, and the function's one-sided derivatives where computed."""
    item = {"output": entry.output, "variable": graph.variables[entry.variable],
            "reference": None if entry.reference is None else
            _reference_digits(entry.reference, entry.reference_method, report),
            "reference_method": entry.reference_method,
            "checks": [{"method": c.method, "value": _number(c.value), "abs_error": _number(c.abs_error),
                        "rel_error": _number(c.rel_error), "rtol": c.tolerance.rtol, "atol": c.tolerance.atol,
                        "ok": c.ok, "explanation": c.explanation} for c in entry.checks]}
    one = entry.one_sided
    if one is not None:
        item["one_sided"] = {"left": one.left, "right": one.right, "why": {"left": one.why[0], "right": one.why[1]},
                             "found_by": one.how,
                             # null where no method could establish a side: nothing is claimed
                             "differentiable": one.differentiable if one.established else None,
                             "one_sided_differences": {"left": one.differences[0], "right": one.differences[1]},
                             "confirmed": one.confirmed}
    return item


def report_to_dict(report):
    """The Report as plain JSON-ready data."""
    graph = report.graph
    comparison = report.comparison
    entries = [_entry(graph, comparison, e, report) for e in comparison.entries]
    analysis = comparison.analysis
    kinks = [{"node": describe_slot(graph, slot), "kink": text} for slot, text in comparison.kinks]
    singular, edges, hidden = [], [], []
    if analysis is not None:
        hidden = [{"node": describe_slot(graph, h.slot), "argument": h.position, "at": h.value, "what": h.what}
                  for h in analysis.hidden]
        kinks += [{"node": describe_slot(graph, k.slot), "kink": k.text, "convention": k.convention}
                  for k in analysis.kinks]
        singular = [{"node": describe_slot(graph, s.slot), "argument": s.position,
                     "partial": None if s.partial != s.partial else ("+inf" if s.partial > 0 else "-inf"),
                     "in_floats_only": s.rounded}
                    for s in analysis.singular]
        edges = [{"node": describe_slot(graph, e.slot), "argument": e.position, "in_floats_only": e.rounded}
                 for e in analysis.edges]
    values = [row.value for row in report.primal if row.section == "output"]
    return {
        "expression": graph.source,
        "variables": list(graph.variables),
        "outputs": list(output_names(graph)),
        "point": [float(x) for x in report.point],
        "value": _number(values[0]) if len(values) == 1 else [_number(v) for v in values],
        "primal_trace": _rows(graph, report.primal),
        "methods": {name: _method(graph, result) for name, result in report.results.items()},
        "comparison": {"reference": comparison.reference, "entries": entries,
                       "failures": dict(comparison.failures), "skipped": dict(comparison.skipped),
                       "referee": [{"output": k, "variable": graph.variables[j], "decision": d.verdict,
                                    "numerical": None if d.numerical.value is None else mpmath.nstr(d.numerical.value, 50),
                                    "error_estimate": None if d.numerical.error is None
                                    else mpmath.nstr(d.numerical.error, 3),
                                    "how": d.numerical.how, "text": d.text}
                                   for (k, j), d in comparison.referee.items()],
                       "kinks": kinks, "infinite_partials": singular, "domain_edges": edges,
                       "within_rounding_of": hidden,
                       "lost_to_rounding": [{"node": describe_slot(graph, slot), "float": value,
                                             "exact": str(exact)} for slot, value, exact in comparison.lost]},
        "agree": comparison.agree,
        "verdict": {"status": comparison.verdict.status, "summary": comparison.verdict.summary},
    }


def points_report_to_dict(report):
    """A PointsReport as plain JSON-ready data: the summaries, not the arrays (write the
    Jacobian with ``--jacobian-out``, or read ``report.jacobian``)."""
    graph = report.graph
    comparison = report.comparison
    methods = {}
    for name, result in report.results.items():
        item = {"error": result.error, "cost": _cost(result)}
        if name == "symbolic":
            item["precision"] = result.details.get("precision")
            item["derivatives"] = [[str(d) for d in row] for row in result.details["derivatives"]]
        if name == "finite_difference":
            item["method"] = result.details["method"]
            item["fallback_points"] = result.details.get("fallback_points", 0)
        methods[name] = item
    entries = [{"output": s.output, "variable": graph.variables[s.variable], "method": s.method,
                "max_abs_error": s.max_abs_error, "max_rel_error": s.max_rel_error,
                "worst_point": None if s.worst_point is None else list(s.worst_point), "points_out_of_tolerance": s.disagreeing,
                "rtol": s.tolerance.rtol, "atol": s.tolerance.atol} for s in comparison.summaries]
    worst = [{"index": list(position), "point": dict(zip(graph.variables, report.coordinates(position))),
              **({"error": str(single)} if isinstance(single, Exception) else
                 {"comparison": report_to_dict(single)["comparison"], "agree": single.agree})}
             for position, single in comparison.worst]
    return {
        "expression": graph.source,
        "variables": list(graph.variables),
        "points": report.n_points,
        "shape": list(report.shape),
        "methods": methods,
        "comparison": {"reference": comparison.reference, "entries": entries, "failures": dict(comparison.failures),
                       "points_at_kink": comparison.points_at_kink,
                       "points_disagreeing": comparison.points_disagreeing, "worst_points": worst,
                       # each point's state (scale branch): counts, and why points were inconclusive
                       "points_by_state": comparison.state_counts(),
                       "inconclusive_reasons": [{"reason": reason, "points": count, "first_point": list(first)}
                                                for reason, count, first in comparison.reasons]},
        "agree": comparison.agree,
        "verdict": {"status": comparison.verdict.status, "summary": comparison.verdict.summary},
    }


NON_FINITE = {math.inf: "Infinity", -math.inf: "-Infinity"}


def strict(data):
    """``data`` with every float that is not finite replaced by its name as a string
    (``"Infinity"``, ``"-Infinity"``, ``"NaN"``), so that it is valid JSON."""
    if isinstance(data, float):
        return data if math.isfinite(data) else NON_FINITE.get(data, "NaN")
    if isinstance(data, dict):
        return {key: strict(value) for key, value in data.items()}
    if isinstance(data, (list, tuple)):
        return [strict(value) for value in data]
    return data


def render_report(report, digits=None, wrt=None, standalone=False, **view):
    """The Report (or PointsReport) as a JSON document (full precision: ``digits``, ``wrt``
    and ``standalone`` do not apply; numbers that are not finite as strings, see `strict`)."""
    from ..report import PointsReport
    data = points_report_to_dict(report) if isinstance(report, PointsReport) else report_to_dict(report)
    return json.dumps(strict(data), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
