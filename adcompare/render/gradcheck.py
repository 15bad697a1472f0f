"""Drawing a `GradcheckReport` (`adcompare.findings`): plain text for the terminal and the
failure message, Markdown and HTML for notebooks. It reads the report and decides nothing.

The failure message leads with one line per argument (how many entries are wrong out of
how many, the worst, the pattern: every entry, one row, a transpose, a factor), then a
table of every argument's worst entries.
"""

import math
from html import escape

import mpmath
from tabulate import tabulate

from ..findings import WORST_PER_ARGUMENT, worst_per_argument
from ..graph import float_text

MAX_ROWS = 20
TITLES = {"finite_difference": "finite differences", "symbolic": "symbolic (sympy)",
          "forward": "forward mode", "reverse": "reverse mode"}


def method_title(report, method):
    """How a method is named in tables ('reverse mode', 'your gradient')."""
    if method in (None, "user"):
        return report.user_title
    return TITLES.get(method, method)


def number(value):
    """A value with all its digits: it is what was compared."""
    if value is None:
        return ""
    if value == 0:      # −0.0 too: it compares equal to 0, and "expected -0" misleads
        return "0"
    if isinstance(value, mpmath.mpf):
        return mpmath.nstr(value, 17, min_fixed=-5, max_fixed=17)
    return float_text(float(value))


def error_text(value):
    """An error to two digits (errors are read for their size)."""
    if value is None:
        return ""
    if math.isnan(value) or math.isinf(value):
        return repr(value)
    return "0" if value == 0 else f"{value:.1e}"


def expected_text(expected):
    """The reference value, or the interval of a kink."""
    if isinstance(expected, tuple):
        if expected[0] == expected[1]:
            return f"{number(expected[0])} (the one side where f has a derivative)"
        return f"between {number(expected[0])} and {number(expected[1])} (kink)"
    return number(expected)


def verdict(report):
    """One line: passed or failed, against what, how many entries."""
    entries = report.m * report.n
    reference = method_title(report, report.reference) if report.reference in TITLES else report.reference
    how = "" if report.traced is not None else ", not traced: checked black-box"
    if report.headline:
        return f"FAILED: {report.headline}"
    failures = report.failures
    if failures:
        if report.cross_check:
            wrong = len({(f.output, f.variable) for f in failures})
            return f"FAILED: the methods disagree at {wrong} of {entries} entries (reference: {reference}{how})"
        strict = " or close (strict)" if report.strict else ""
        return (f"FAILED: {report.user_title} is wrong{strict} at {len(failures)} of {entries} entries "
                f"(reference: {reference}{how})")
    if report.cross_check and report.comparison is not None and report.comparison.failures:
        decided = report.comparison.verdict      # the cross-check's own verdict (adcompare.compare)
        if decided.status == "inconclusive":
            return f"INCONCLUSIVE: {decided.summary.removeprefix('inconclusive: ')}"
        return f"FAILED: {decided.summary}"
    if report.cross_check:
        if report.comparison is None:
            return f"passed: nothing to compare, the function was not traced ({entries} entries by {reference})"
        return f"passed: all methods agree at all {entries} entries (reference: {reference})"
    if not report.findings:
        if any(row[-1] == "close" for row in report.directions):
            return (f"passed: {report.user_title} is only close along the random directions (within 1e-4 "
                    f"relative: an ε guard, float32?) (reference: {reference}{how})")
        return f"passed: {report.user_title} agrees along every random direction (reference: {reference}{how})"
    close = len(report.close)
    if close:
        return (f"passed: {report.user_title} is right at all {entries} entries, {close} of them only close "
                f"(within 1e-4 relative: an ε guard, float32?) (reference: {reference}{how})")
    return f"passed: {report.user_title} agrees at all {entries} entries (reference: {reference}{how})"


def argument_lines(report):
    """One line per argument with a failing or close entry: counts, the worst, the pattern."""
    lines = []
    for summary in report.summaries:
        worst = summary.worst
        if not (summary.wrong or summary.close):
            continue
        name, index = report.variable_label(worst.variable)
        where = f"{report.output_label(worst.output)} w.r.t. " if report.output_shape else ""
        counts = f"{summary.wrong} of {summary.entries} entries wrong" if summary.wrong else \
            f"{summary.close} of {summary.entries} entries close"
        if summary.wrong and summary.close:
            counts += f", {summary.close} close"
        pattern = f"; {summary.pattern}" if summary.pattern else ""
        lines.append(f"{summary.name}: {counts}{pattern}; worst {where}{name}{index}: expected "
                     f"{expected_text(worst.expected)}, got {number(worst.got)} (rel error {error_text(worst.rel_error)})")
    return lines


def worst_rows(report, max_rows=MAX_ROWS):
    """Each argument's worst failing (then close) findings, in argument order."""
    failing = set(map(id, report.failures))
    return worst_per_argument(report.arguments, report.findings,
                              lambda f: 2 if id(f) in failing else (1 if f.grade == "close" else 0))[:max_rows]


def findings_table(report, findings, fmt="simple"):
    """Rows of findings: argument, index, expected, got, errors, grade (and what finite
    differences of the user's code say, where computed)."""
    show_output = bool(report.output_shape)
    show_method = report.cross_check
    confirmed = any(f.confirmed is not None for f in findings)
    table = []
    for f in findings:
        name, index = report.variable_label(f.variable)
        row = ([report.output_label(f.output)] if show_output else []) + [name, index]
        if show_method:
            row.append(method_title(report, f.method))
        row += [expected_text(f.expected), number(f.got), error_text(f.abs_error), error_text(f.rel_error), f.grade]
        if confirmed:
            row.append(number(f.confirmed))
        table.append(row)
    headers = (["output"] if show_output else []) + ["argument", "index"] + (["method"] if show_method else []) + \
        ["expected", "got", "abs error", "rel error", "grade"] + (["finite differences of f"] if confirmed else [])
    return _table(table, headers, fmt)


def kink_table(report, fmt="simple"):
    """Each kink entry: left and right one-sided derivatives, AD's choice, the user's value."""
    headers = ["entry", "left derivative", "right derivative", "AD chose"]
    with_user = any(k.user is not None for k in report.kinks)
    if with_user:
        headers += [report.user_title, ""]
    rows = []
    for kink in report.kinks:
        row = [report.entry_label(kink.output, kink.variable), number(kink.left), number(kink.right),
               f"{number(kink.chosen)} ({method_title(report, kink.chosen_by)})"]
        if with_user:
            row += [number(kink.user), "ok" if kink.ok else "OUTSIDE"]
        rows.append(row)
    return _table(rows, headers, fmt) + "\nMade by: " + "; ".join(report.kink_sources)


def jacobian_table(report, fmt="simple"):
    """The reference Jacobian as a matrix: one row per output, one column per input."""
    names = [''.join(report.variable_label(j)).replace(", ", ",").replace(" ", "") for j in range(report.n)]
    rows = [[report.output_label(k)] + [number(v) for v in row] for k, row in enumerate(report.jacobian)]
    return _table(rows, [""] + names, fmt)


def entry_table(report, fmt="simple"):
    """Every entry: the reference value, each compared value, and its grade."""
    by_entry = {}
    for f in report.findings:
        by_entry.setdefault((f.output, f.variable), []).append(f)
    methods = []
    for f in report.findings:
        if f.method not in methods:
            methods.append(f.method)
    rows = []
    for (k, j), found in sorted(by_entry.items()):
        values = {f.method: f for f in found}
        first = found[0]
        row = [report.entry_label(k, j), expected_text(first.expected)]
        row += [number(values[m].got) if m in values else "" for m in methods]
        grades = {f.grade for f in found}
        row.append("wrong" if "wrong" in grades else ("close" if "close" in grades else "ok"))
        rows.append(row)
    reference = method_title(report, report.reference) if report.reference in TITLES else report.reference
    # Where the reference method is itself graded (against the function's one-sided
    # derivatives, at a tie), the expected column is theirs, not the reference method's.
    expected = "expected (one-sided derivatives of f)" if report.reference in methods else f"{reference} (reference)"
    return _table(rows, ["entry", expected] + [method_title(report, m) for m in methods] + [""], fmt)


def cost_table(report, fmt="simple"):
    """Each method's cost: evaluations of f, derivative sweeps, elementary operations."""
    rows = [[method_title(report, name), r.cost.primal_evaluations, r.cost.sweeps, r.cost.operations]
            for name, r in report.results.items() if r.error is None]
    text = _table(rows, ["method", "evaluations of f", "sweeps", "operations"], fmt)
    m, n = report.m, report.n
    return text + (f"\nn = {n} input{'s' if n != 1 else ''}, m = {m} output{'s' if m != 1 else ''}: "
                   f"forward mode needs n = {n} sweep{'s' if n != 1 else ''} (one per input), "
                   f"reverse mode m = {m} (one per output).")


def directions_table(report, fmt="simple"):
    """The directional checks: finite differences of f along a random direction v against Jv."""
    status = {"ok": "ok", "close": "close", "wrong": "differs"}
    rows = [[what, number(expected), number(got), error_text(allowed),
             "not checked" if not math.isfinite(allowed) else status[grade]]
            for what, expected, got, allowed, grade in report.directions]
    reference = "your gradient · v" if not report.cross_check and report.traced is None else "reference · v"
    return _table(rows, ["along", "finite differences", reference, "allowed", ""], fmt)


def sections(report, fmt="simple", max_rows=MAX_ROWS):
    """(title, body) pairs: verdict, why not traced, per-argument lines, worst entries,
    kinks, Jacobian, entries, directions, cost, notes."""
    result = [(report.title, verdict(report))]
    if report.traced is None and report.untraced:
        where = f"\nat {report.untraced_where}" if report.untraced_where else ""
        result.append(("Not traced", f"{report.untraced}{where}\nThe function was checked black-box: finite "
                                     "differences of the function as written are the reference."))
    lines = argument_lines(report)
    if lines:
        result.append(("By argument", "\n".join(lines)))
    rows = worst_rows(report, max_rows=max_rows)
    if rows:
        result.append((f"Worst entries ({len(rows)} shown)", findings_table(report, rows, fmt)))
    if report.kinks:
        result.append(("Kinks: entries where the function is not differentiable", kink_table(report, fmt)))
    m, n = report.m, report.n
    if (m > 1 or not report.findings) and m * n <= 100 and report.jacobian is not None:
        reference = method_title(report, report.reference) if report.reference in TITLES else report.reference
        result.append((f"Jacobian ({reference}), {m} output{'s' if m != 1 else ''} × {n} input{'s' if n != 1 else ''}",
                       jacobian_table(report, fmt)))
    if report.findings and m * n <= max_rows * 3:
        result.append(("Entries", entry_table(report, fmt)))
    if report.directions:
        result.append(("Finite differences of the function as written", directions_table(report, fmt)))
    if report.results:
        result.append(("Cost", cost_table(report, fmt)))
    if report.notes:
        result.append(("Notes", "\n".join(report.notes)))
    return result


def text(report, max_rows=MAX_ROWS):
    """The report as plain text, for the terminal."""
    return "\n\n".join(f"{title}\n{body}" if i else f"{title}: {body}"
                       for i, (title, body) in enumerate(sections(report, "simple", max_rows)))


def markdown(report):
    """The report as Markdown (tables as pipe tables), for notebooks."""
    parts = []
    for i, (title, body) in enumerate(sections(report, "pipe")):
        parts.append(f"**{title}**: {body}" if i == 0 else f"**{title}**\n\n{_markdown_body(body)}")
    return "\n\n".join(parts)


def html(report):
    """The report as HTML, for notebooks."""
    parts = []
    for i, (title, body) in enumerate(sections(report, "html")):
        if i == 0:
            parts.append(f"<p><b>{escape(title)}</b>: {escape(body)}</p>")
        else:
            parts.append(f"<p><b>{escape(title)}</b></p>\n{_html_body(body)}")
    return "\n".join(parts)


def failure_message(report, max_rows=MAX_ROWS):
    """The GradcheckError message: the verdict, why not traced, one line per argument, the
    worst entries of every argument, the methods that could not run, the kinks."""
    lines = [f"{report.title}: {verdict(report)}"]
    if report.traced is None and report.untraced:
        where = f"\n  at {report.untraced_where}" if report.untraced_where else ""
        lines.append(f"not traced, checked black-box: {report.untraced}{where}")
    lines += argument_lines(report)
    rows = worst_rows(report, max_rows=max_rows)
    if rows:
        lines.append(findings_table(report, rows, "simple"))
        more = len(report.failures) - sum(1 for f in rows if f.grade == "wrong" or report.strict)
        if more > 0:
            lines.append(f"… and {more} more (each argument's {WORST_PER_ARGUMENT} worst are shown)")
    elif report.directions and not report.passed:
        lines.append(directions_table(report, "simple"))
    if report.kinks:
        count = len(report.kinks)
        lines.append(f"({count} entr{'y' if count == 1 else 'ies'} at a kink checked against the one-sided "
                     "derivatives on either side)")
    lines += list(report.notes)
    return "\n".join(lines)


def _table(rows, headers, fmt):
    return tabulate(rows, headers=headers, tablefmt=fmt, disable_numparse=True)


def _markdown_body(body):
    # tabulate's pipe tables are kept; other lines become paragraphs.
    return "\n".join(line if line.startswith("|") else f"\n{line}\n" for line in body.split("\n")).strip()


def _html_body(body):
    lines, out, in_table = body.split("\n"), [], False
    for line in lines:
        if line.startswith("<table") or in_table:
            in_table = not line.startswith("</table>")
            out.append(line)
        else:
            out.append(f"<p>{escape(line)}</p>")
    return "\n".join(out)
