"""A self-contained HTML page that steps through a trace: the forward sweep row by row,
then the reverse sweep in the order it runs, with Baydin's Table 3 on the left and the
computational graph on the right. Each step highlights its row in the table and its node
and edge in the graph, and reveals the value or adjoint it computes; when an adjoint
accumulates a second contribution (fan-out), the page says so and shows the sum. Buttons
and the arrow keys (← →, Home, End) move through the steps.

The drawing needs Graphviz's ``dot`` (tests/test_stepping.py runs this example where it
is installed). The page fetches nothing: its style, script and drawing (Graphviz's SVG) are inside it.

    >>> from adcompare import trace
    >>> page = stepping_page(trace("x*y", at=(2, 3), methods=("reverse",)))  # doctest: +SKIP
    >>> page.startswith("<!DOCTYPE html>") and "<script" in page and "src=" not in page  # doctest: +SKIP
    True
"""

import html
import json

from ..errors import InputError
from ..formula import Var
from . import common
from .dot import colours, edge_id, render_graph, run_graphviz
from .html import HTML_FORMAT, page, with_overlines
from .layout import View
from .style import expression_source, format_number, quantity_name
from .traces import table_3_indices, trace_cells, pad, widths

MAX_OPERATIONS = 200   # a stepping page is for a lecture's example, not for a large graph


def _cells(cells, graph, digits, step):
    return "".join(f'<td data-step="{step}">{common.render_cell(cell, graph, HTML_FORMAT, digits)}</td>'
                   for cell in cells)


def _forward_step(graph, index, primal):
    """The nodes and edges of forward step ``index`` (a primal row), and what it says."""
    meta = primal.meta(index)
    if meta.section == "output":
        return ["y"], ["out"], "the output"
    slot = meta.target.index
    if meta.section == "input":
        return [f"v{slot}"], [], "an input"
    node = graph.node(slot)
    edges = [edge_id(arg, slot, p) for p, arg in enumerate(node.args) if isinstance(arg, int)]
    return [f"v{slot}"], edges, "reads " + ", ".join(quantity_name(Var("v", a), graph)
                                                      for a in node.args if isinstance(a, int))


def steps_and_rows(report, output, digits):
    """The table's rows (HTML) and the steps: [{nodes, edges, title, note}] in order."""
    graph, primal = report.graph, report.primal
    sweep = next(s for s in report.results["reverse"].sweeps if s.kind == "adjoint" and s.seed == output)
    adjoint, record = sweep.rows, sweep.record
    left_width, right_width = widths("all")
    steps = []
    for index in range(len(primal)):
        nodes, edges, what = _forward_step(graph, index, primal)
        row = primal[index]
        name = quantity_name(row.target, graph)
        steps.append({"nodes": nodes, "edges": edges, "sweep": "forward", "reveal": [e + ":value" for e in edges],
                      "note": f"Forward sweep: {name} = {format_number(row.value, digits)} ({what})."})
    contributions = {}
    for index in range(len(adjoint)):
        meta = adjoint.meta(index)
        name = quantity_name(meta.target, graph)
        value = format_number(meta.value, digits)
        if meta.section == "input":
            steps.append({"nodes": ["y"], "edges": ["out"], "sweep": "reverse", "reveal": ["y:adjoint", "out:adjoint"],
                          "note": f"Reverse sweep: the seed {name} = {quantity_name(Var('ybar', output), graph)} = 1."})
            continue
        if meta.section == "output":
            steps.append({"nodes": [f"v{meta.target.index}"], "edges": [], "sweep": "reverse",
                          "reveal": [f"v{meta.target.index}:adjoint"], "note": f"Reverse sweep: {name} = {value}, the derivative with respect to this input."})
            continue
        slot, position, _, contribution, before, after = record[index - 1]
        arg = meta.target.index
        parts = contributions.setdefault(arg, [])
        parts.append(contribution)
        if before is None:
            note = f"Reverse sweep: {name} = {format_number(contribution, digits)}, from {quantity_name(Var('v', slot), graph)}."
        else:
            terms = " + ".join(format_number(c, digits) for c in parts)
            note = (f"Fan-out: {quantity_name(Var('v', arg), graph)} feeds {len(parts)} operations so far, so its "
                    f"adjoint accumulates: {name} = {terms} = {format_number(after, digits)}.")
        edge = edge_id(arg, slot, position)
        steps.append({"nodes": [f"v{arg}"], "edges": [edge], "sweep": "reverse", "reveal": [edge + ":adjoint"],
                      "accumulates": before is not None, "note": note})
    # Table 3's rows: each adjoint row on the line of the primal row it comes from.
    rights = {}
    for index in table_3_indices(adjoint, range(len(adjoint))):
        source = adjoint.meta(index).source
        key = graph.size + source.index if source.kind == "y" else source.index
        rights.setdefault(key, []).append((pad(trace_cells(adjoint[index]), right_width), len(primal) + index + 1))
    rows = []
    for index in range(len(primal)):
        left = pad(trace_cells(primal[index]), left_width)
        section = primal.section(index)
        for position, (right, step) in enumerate(rights.get(index) or [(None, 0)]):
            cells = _cells(left, graph, digits, index + 1) if position == 0 else "<td></td>" * left_width
            cells += _cells(right, graph, digits, step) if right else "<td></td>" * right_width
            rows.append((section, f"<tr>{cells}</tr>"))
    return steps, rows


_STYLE = """
body { font-family: system-ui, sans-serif; margin: 1em; }
.stepper { display: flex; flex-wrap: wrap; gap: 1.5em; align-items: flex-start; }
.stepper .trace { overflow-x: auto; flex: 0 1 auto; font-size: 0.9em; }
.stepper .graph { flex: 1 1 600px; min-width: 280px; }
.stepper table { border-collapse: collapse; border-top: 2px solid currentColor; border-bottom: 2px solid currentColor; }
.stepper td, .stepper th { padding: 0.15em 0.5em; white-space: nowrap; text-align: left; }
.stepper thead th { border-bottom: 1px solid currentColor; }
.stepper tbody + tbody { border-top: 1px solid currentColor; }
.stepper td[data-step].hidden { visibility: hidden; }
.stepper td.current { background: #ffe08a; color: #000; }
.stepper .overline { text-decoration: overline; }
.stepper .graph svg { width: 100%; height: auto; max-height: 75vh; }
.stepper .graph svg .hidden { visibility: hidden; }
.stepper .graph svg g.current ellipse, .stepper .graph svg g.current path,
.stepper .graph svg g.current polygon { stroke: #e69f00; stroke-width: 3px; }
.stepper .graph svg g.edge.current path { stroke: #e69f00; stroke-width: 3px; }
.controls { margin: 0.8em 0; display: flex; gap: 0.5em; align-items: center; flex-wrap: wrap; }
.controls button { font-size: 1em; padding: 0.3em 0.8em; }
#note { min-height: 2.6em; font-size: 1.05em; }
#note.fanout { font-weight: bold; }
@media (prefers-color-scheme: dark) {
  body { background: #1b1b1b; color: #e6e6e6; }
  .stepper .graph svg { background: #f4f4f4; border-radius: 6px; }
}
"""

_SCRIPT = """
(function () {
  const steps = JSON.parse(document.getElementById('steps').textContent);
  const palette = JSON.parse(document.getElementById('palette').textContent);
  const svg = document.querySelector('.graph svg');
  let step = 0;
  const byId = (id) => svg.querySelector('[id="' + id + '"]');
  // Edge labels: values (first colour) appear in the forward sweep, adjoints in the reverse.
  const labelStep = {};
  steps.forEach((s, i) => s.reveal.forEach((key) => { if (!(key in labelStep)) labelStep[key] = i + 1; }));
  function show() {
    document.querySelectorAll('td[data-step]').forEach((td) => {
      const k = Number(td.dataset.step);
      td.classList.toggle('hidden', k > step);
      td.classList.toggle('current', k === step);
    });
    svg.querySelectorAll('.current').forEach((g) => g.classList.remove('current'));
    svg.querySelectorAll('text').forEach((t) => {
      const fill = (t.getAttribute('fill') || '').toLowerCase();
      const owner = t.closest('g.node, g.edge');
      if (!owner) return;
      const kind = fill === palette[0] ? ':value' : fill === palette[1] ? ':adjoint' : null;
      if (kind === null) return;
      const first = labelStep[owner.id + kind];
      t.classList.toggle('hidden', first === undefined ? false : first > step);
    });
    const note = document.getElementById('note');
    if (step === 0) {
      note.textContent = 'Press → (or Next) to run the forward sweep, then the reverse sweep.';
      note.classList.remove('fanout');
    } else {
      const s = steps[step - 1];
      s.nodes.forEach((n) => { const g = byId(n); if (g) g.classList.add('current'); });
      s.edges.forEach((e) => ['', '_in', '_out'].forEach((suffix) => {
        const g = byId(e + suffix); if (g) g.classList.add('current');
      }));
      note.textContent = s.note;
      note.classList.toggle('fanout', Boolean(s.accumulates));
    }
    document.getElementById('counter').textContent = 'Step ' + step + ' of ' + steps.length +
      (step ? (steps[step - 1].sweep === 'forward' ? ': forward sweep' : ': reverse sweep') : '');
    document.body.dataset.step = step;
  }
  function go(k) { step = Math.max(0, Math.min(steps.length, k)); show(); }
  const firstReverse = steps.findIndex((s) => s.sweep === 'reverse') + 1;
  document.getElementById('next').onclick = () => go(step + 1);
  document.getElementById('back').onclick = () => go(step - 1);
  document.getElementById('reset').onclick = () => go(0);
  document.getElementById('reverse').onclick = () => go(firstReverse);
  document.getElementById('end').onclick = () => go(steps.length);
  document.addEventListener('keydown', (event) => {
    const moves = {ArrowRight: step + 1, ArrowLeft: step - 1, Home: 0, End: steps.length};
    if (event.key in moves) { event.preventDefault(); go(moves[event.key]); }
  });
  show();
})();
"""


def stepping_page(report, digits=3, output=0, rankdir="LR", colors=None):
    """The stepping page of output ``output``'s sweeps, as one HTML document.

    Needs the reverse method's sweeps and Graphviz's dot (for the drawing); InputError for
    a graph of more than MAX_OPERATIONS operations."""
    graph = report.graph
    if "reverse" not in report.results or report.results["reverse"].jacobian is None:
        raise InputError("the stepping page needs the reverse sweep: include reverse in the methods")
    if len(graph.nodes) > MAX_OPERATIONS:
        raise InputError(f"the stepping page is for a lecture's example: at most {MAX_OPERATIONS} operations "
                         f"(this one has {len(graph.nodes):,})")
    palette = [c.lower() for c in colours(colors)]
    steps, rows = steps_and_rows(report, output, digits)
    svg = run_graphviz(render_graph(report, digits, output, rankdir, colors), "svg").decode("utf-8")
    svg = svg[svg.index("<svg"):]
    bodies, previous = [], None
    for section, row in rows:
        if section != previous:
            bodies.append([])
            previous = section
        bodies[-1].append(row)
    left_width, right_width = widths("all")
    head = (f'<thead><tr><th colspan="{left_width}">Forward primal trace</th>'
            f'<th colspan="{right_width}">Reverse adjoint trace</th></tr></thead>')
    table = with_overlines("<table>" + head + "".join("<tbody>" + "".join(b) + "</tbody>" for b in bodies)
                           + "</table>")
    name = quantity_name(Var("y", output), graph)
    title = f"{name} = {expression_source(graph)}"
    controls = ('<div class="controls"><button id="reset">Start</button><button id="back">◀ Back</button>'
                '<button id="next">Next ▶</button><button id="reverse">Reverse sweep</button>'
                '<button id="end">End</button><span id="counter"></span></div>')
    body = (f"<h2>{html.escape(title)}</h2>\n{controls}\n<p id=\"note\"></p>\n"
            f'<div class="stepper"><div class="trace">{table}</div><div class="graph">{svg}</div></div>\n'
            f'<script type="application/json" id="steps">{_json(steps)}</script>\n'
            f'<script type="application/json" id="palette">{_json(palette)}</script>\n'
            f"<script>{_SCRIPT}</script>\n")
    return page(f"Stepping through {title}", body, f"<style>{_STYLE}</style>\n")


def _json(data):
    """JSON safe inside a <script> element."""
    return json.dumps(data, ensure_ascii=False).replace("</", "<\\/")
