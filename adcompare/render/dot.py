"""The computational graph in Graphviz DOT, drawn the way CS231n draws circuits: inputs on
the left, one node per operation, the output on the right; each edge labelled with the
value flowing forward (green, above) and the adjoint flowing back along it (red, below:
ȳ·∂y/∂ of that edge, so at a fan-out the two edges' adjoints add up). Node names are the
trace's names (v₋₁, v₁, …), so the drawing and the tables match.

    >>> from adcompare import trace
    >>> text = render_graph(trace("x*y", at=(2, 3), methods=("reverse",)))
    >>> '"v0" -> "v2"' in text   # x (slot 0) feeds the product (slot 2)
    True
"""

import html
import shutil
import subprocess

from ..errors import AdcompareError
from ..formula import Var
from ..graph import Const
from ..ops import OPERATIONS
from .style import TEXT, constant_text, format_number, output_name, quantity_name

FORWARD_COLOUR, ADJOINT_COLOUR = "#1a7f37", "#c62828"


def _id(slot):
    return f'"v{slot}"'


def operation_symbol(op_name):
    """The short symbol drawn in an operation's node: ×, +, ln, sin, σ, max …"""
    template = OPERATIONS[op_name].notation.text
    symbol = template.replace("$0", "").replace("$1", "").strip()
    return op_name if "(" in symbol or not symbol else symbol


def _edge_label(value, adjoint, digits):
    top = f'<font color="{FORWARD_COLOUR}">{html.escape(format_number(value, digits))}</font>'
    if adjoint is None:
        return f"<{top}>"
    bottom = f'<font color="{ADJOINT_COLOUR}">{html.escape(format_number(adjoint, digits))}</font>'
    return f"<{top}<br/>{bottom}>"


def render_graph(report, digits=3, output=0):
    """DOT text of the report's graph, with the adjoints of output ``output``'s reverse sweep."""
    graph = report.graph
    values = {row.target.index: row.value for row in report.primal if row.target.kind == "v"}
    contributions = {}
    reverse = report.results.get("reverse")
    if reverse is not None:
        sweep = next(s for s in reverse.sweeps if s.kind == "adjoint" and s.seed == output)
        for slot, position, _, contribution, _, _ in sweep.record:
            contributions[(slot, position)] = contribution
    legend = (f'<font color="{FORWARD_COLOUR}">value</font> / '
              f'<font color="{ADJOINT_COLOUR}">adjoint</font>' if reverse is not None
              else f'<font color="{FORWARD_COLOUR}">value</font>')
    lines = ["digraph adcompare {", "  rankdir=LR;",
             '  node [shape=circle, fontname="Helvetica", fontsize=12, margin=0.02];',
             '  edge [fontname="Helvetica", fontsize=10];',
             f'  label=<{html.escape(graph.source)}<br/><font point-size="10">{legend}</font>>;',
             '  labelloc=t; fontname="Helvetica";']
    inputs = []
    for i, name in enumerate(graph.variables):
        label = f"{html.escape(name)}<br/>{html.escape(quantity_name(Var('v', i), graph))}"
        if reverse is not None:
            total = format_number(reverse.jacobian[output, i], digits)
            label += (f'<br/><font color="{ADJOINT_COLOUR}" point-size="10">'
                      f"{html.escape(quantity_name(Var('xbar', i), graph))} = {html.escape(total)}</font>")
        inputs.append(f"  {_id(i)} [shape=box, style=rounded, label=<{label}>];")
    lines += ["  { rank=source;", *inputs, "  }"]
    constants = 0
    for slot in range(graph.n_inputs, graph.size):
        node = graph.node(slot)
        name = html.escape(quantity_name(Var("v", slot), graph))
        lines.append(f"  {_id(slot)} [label=<{html.escape(operation_symbol(node.op))}<br/>"
                     f"<font point-size=\"9\">{name}</font>>];")
        for position, arg in enumerate(node.args):
            if isinstance(arg, Const) and arg.slot is not None:   # a folded constant: its node
                lines.append(f"  {_id(arg.slot)} -> {_id(slot)} [label={_edge_label(values[arg.slot], None, digits)}];")
            elif isinstance(arg, Const):
                constants += 1
                lines.append(f'  "c{constants}" [shape=plaintext, label="{html.escape(constant_text(arg, TEXT))}"];')
                lines.append(f'  "c{constants}" -> {_id(slot)};')
            else:
                label = _edge_label(values[arg], contributions.get((slot, position)), digits)
                lines.append(f"  {_id(arg)} -> {_id(slot)} [label={label}];")
    for k, slot in enumerate(graph.outputs):
        name = html.escape(output_name(graph, k))
        lines.append(f'  "y{k}" [shape=box, style=rounded, label=<{name}>];')
        seed = 1.0 if (reverse is not None and k == output) else None
        lines.append(f'  {_id(slot)} -> "y{k}" [label={_edge_label(values[slot], seed, digits)}];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def run_graphviz(dot_text, image_format):
    """SVG or PNG bytes from DOT text, with Graphviz's ``dot`` program."""
    program = shutil.which("dot")
    if program is None:
        raise AdcompareError(f"drawing {image_format.upper()} needs Graphviz's 'dot' program, which is not "
                             "installed (Debian: apt-get install graphviz); --format dot writes the DOT text")
    done = subprocess.run([program, f"-T{image_format}"], input=dot_text.encode(), capture_output=True, timeout=60)
    if done.returncode != 0:
        raise AdcompareError(f"Graphviz's dot failed: {done.stderr.decode(errors='replace').strip()}")
    return done.stdout


class GraphDrawing:
    """DOT text that displays itself in a notebook: SVG when Graphviz's dot is installed,
    else the DOT source."""

    def __init__(self, dot_text):
        self.dot = dot_text

    def _repr_svg_(self):
        if shutil.which("dot") is None:
            return None
        return run_graphviz(self.dot, "svg").decode("utf-8")

    def _repr_markdown_(self):
        return f"```dot\n{self.dot}```\n"

    def __str__(self):
        return self.dot
