"""The graph drawing for slides (issue 14, item 5): CS231n's layout (value above the edge,
adjoint below), labels inside their boxes, inputs in --vars order, LR and TB, PNG at a
chosen dpi and PDF, one drawing per output, a colour-blind-safe palette, and a picture
(not its source) in a notebook. Geometry is read from Graphviz's own SVG.
"""

import re
import shutil
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import adcompare
from adcompare.render.dot import PALETTES, GraphDrawing, colours, render_graph, run_graphviz

BAYDIN = "ln(x1)+x1*x2-sin(x2)"
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed "
                                                                   "(Debian: graphviz)")
SVG = "{http://www.w3.org/2000/svg}"
LABEL = re.compile(r'"(e(\d+)_(\d+)_(\d+))" \[shape=plain, id="[^"]+", label=<<table[^>]*>(.*?)</table>>\];')
FONT = re.compile(r'<font color="([^"]+)">([^<]*)</font>')


def cli(*args):
    return subprocess.run([sys.executable, "-m", "adcompare", *args], capture_output=True, timeout=120)


@pytest.fixture(scope="module")
def baydin():
    return adcompare.trace(BAYDIN, at=(2, 5), methods=("reverse",))


def edge_labels(dot):
    """{(from slot, to slot): (value, adjoint)} with the rows in the order drawn."""
    out = {}
    for _, a, b, _, table in LABEL.findall(dot):
        fonts = FONT.findall(table)
        out[(int(a), int(b))] = tuple(text for _, text in fonts)
    return out


def test_edges_carry_the_value_above_and_the_adjoint_below(baydin):
    # Slots: x1 = 0, x2 = 1, ln = 2, × = 3, sin = 4, + = 5, − = 6. Values from Table 2;
    # adjoints from Table 3, one per edge: the two edges leaving x2 carry v̄₂·v₋₁ = 2 and
    # v̄₃·cos v₀ = −cos 5 = −0.284, which add up to x̄₂ = 1.716.
    dot = render_graph(baydin)
    assert edge_labels(dot) == {
        (0, 2): ("2", "0.5"), (0, 3): ("2", "5"), (1, 3): ("5", "2"), (1, 4): ("5", "−0.284"),
        (2, 5): ("0.693", "1"), (3, 5): ("10", "1"), (5, 6): ("10.693", "1"), (4, 6): ("−0.959", "−1"),
    }
    value, adjoint = PALETTES["okabe-ito"]
    table = LABEL.search(dot).group(5)
    # One column: the value's row, the line's row (where the edge enters and leaves), the adjoint's.
    rows = re.findall(r"<tr>(.*?)</tr>", table)
    assert value in rows[0] and 'port="line"' in rows[1] and adjoint in rows[2]
    assert '"v0" -> "e0_2_0":line:w' in dot and '"e0_2_0":line:e -> "v2"' in dot
    assert "x̄₂ = 1.716" in dot and "x̄₁ = 5.5" in dot


def _svg(dot):
    return ET.fromstring(run_graphviz(dot, "svg"))


def _group(svg, gid):
    return next(g for g in svg.iter(f"{SVG}g") if g.get("id") == gid)


def _points(element):
    numbers = [float(n) for n in re.findall(r"-?\d+\.?\d*", element.get("d") or element.get("points"))]
    return list(zip(numbers[::2], numbers[1::2]))


def _texts(group):
    return [(float(t.get("x")), float(t.get("y")), "".join(t.itertext())) for t in group.iter(f"{SVG}text")]


@needs_dot
def test_value_above_the_line_and_adjoint_below_in_the_drawing(baydin):
    svg = _svg(render_graph(baydin))
    label = _group(svg, "e1_4_0")          # x2 → sin: 5 above, −0.284 below
    texts = {text: y for _, y, text in _texts(label)}
    line = [p for p in label.iter(f"{SVG}polygon")]
    line_y = np.mean([y for polygon in line for _, y in _points(polygon)])
    assert texts["5"] < line_y < texts["−0.284"]   # SVG's y grows downwards


@needs_dot
def test_labels_sit_inside_their_boxes(baydin):
    svg = _svg(render_graph(baydin))
    for gid in ("v0", "v1", "y"):
        group = _group(svg, gid)
        outline = [p for element in group.iter() if element.tag in (f"{SVG}path", f"{SVG}polygon")
                   for p in _points(element)]
        xs, ys = [x for x, _ in outline], [y for _, y in outline]
        for x, y, text in _texts(group):
            assert min(xs) < x < max(xs) and min(ys) < y < max(ys), (gid, text)


@needs_dot
@pytest.mark.parametrize("order", [["x", "y", "z"], ["z", "x", "y"], ["y", "z", "x"]])
def test_inputs_are_drawn_in_variable_order(order):
    report = adcompare.trace("(x+y)*z", at=dict(zip("xyz", (-2, 5, -4))), variables=order, methods=("reverse",))
    svg = _svg(render_graph(report))
    heights = [np.mean([y for _, y, _ in _texts(_group(svg, f"v{i}"))]) for i in range(3)]
    assert heights == sorted(heights)   # slot i is the i-th name of --vars, drawn top to bottom


@needs_dot
def test_top_to_bottom_puts_the_inputs_on_top(baydin):
    svg = _svg(render_graph(baydin, rankdir="TB"))
    top = max(y for _, y, _ in _texts(_group(svg, "v0")))
    assert top < min(y for _, y, _ in _texts(_group(svg, "y")))
    label = _group(svg, "e1_4_0")
    xs = {text: x for x, _, text in _texts(label)}
    assert xs["5"] < xs["−0.284"]       # value left of the line, adjoint right


def _png_size(data):
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


@needs_dot
def test_png_at_the_dpi_asked_and_pdf(tmp_path):
    sizes = {}
    for dpi in (100, 200):
        out = tmp_path / f"g{dpi}.png"
        assert cli("graph", BAYDIN, "--at", "2,5", "--dpi", str(dpi), "--out", str(out)).returncode == 0
        sizes[dpi] = _png_size(out.read_bytes())
    assert abs(sizes[200][0] - 2 * sizes[100][0]) <= 2 and abs(sizes[200][1] - 2 * sizes[100][1]) <= 2
    out = tmp_path / "default.png"
    cli("graph", BAYDIN, "--at", "2,5", "--out", str(out))
    assert _png_size(out.read_bytes()) == sizes[200]          # the default is 200 dpi
    out = tmp_path / "g.pdf"
    assert cli("graph", BAYDIN, "--at", "2,5", "--out", str(out)).returncode == 0
    assert out.read_bytes().startswith(b"%PDF")


def test_one_drawing_per_output_never_a_silent_first(tmp_path):
    # y1 = x1·x2, y2 = sin x1 at (1, 2): y2's sweep gives x̄₁ = cos 1 = 0.540, x̄₂ = 0.
    report = adcompare.trace("x1*x2, sin(x1)", at=(1, 2), methods=("reverse",))
    second = render_graph(report, output=1)
    assert "x̄₁ = 0.540" in second and "x̄₂ = 0<" in second and "ȳ₂ = 1" in second
    done = cli("graph", "x1*x2, sin(x1)", "--at", "1,2", "--out", str(tmp_path / "j.dot"))
    assert done.returncode == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["j-y1.dot", "j-y2.dot"]
    assert "x̄₁ = 0.540" in (tmp_path / "j-y2.dot").read_text() and "x̄₁ = 2<" in (tmp_path / "j-y1.dot").read_text()
    done = cli("graph", "x1*x2, sin(x1)", "--at", "1,2", "--format", "svg")
    assert done.returncode == 2 and b"choose one with --output" in done.stderr
    done = cli("graph", "x1*x2, sin(x1)", "--at", "1,2", "--output", "y2")
    assert done.returncode == 0 and "x̄₁ = 0.540" in done.stdout.decode()
    drawings = report.drawing()
    assert len(drawings) == 2 and "x̄₁ = 0.540" in drawings[1].dot


# Machado, Oliveira and Fernandes (2009), "A physiologically-based model for simulation of
# color vision deficiency", IEEE TVCG 15(6), Table 1, severity 1.0; applied to linear RGB.
CVD = {"protanopia": [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                      [-0.003882, -0.048116, 1.051998]],
       "deuteranopia": [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                        [-0.011820, 0.042940, 0.968881]],
       "tritanopia": [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602],
                      [0.004733, 0.691367, 0.303900]]}


def _linear(colour):
    c = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)]) / 255
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)   # sRGB, IEC 61966-2-1


def _lab(rgb):
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ np.clip(rgb, 0, 1)
    t = xyz / np.array([0.95047, 1.0, 1.08883])                                # D65 white
    f = np.where(t > (6 / 29) ** 3, np.cbrt(t), t / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def _worst_difference(pair):
    """The smallest CIELAB ΔE*ab between the two colours as each colour-vision deficiency sees them."""
    a, b = (_linear(c) for c in pair)
    return min(np.linalg.norm(_lab(np.array(m) @ a) - _lab(np.array(m) @ b)) for m in CVD.values())


def test_default_palette_is_safe_for_colour_blind_readers():
    assert _worst_difference(colours()) > 40
    # The test can fail: the red and green drawn before (and CS231n's) are not.
    assert _worst_difference(("#1a7f37", "#c62828")) < 40
    assert _worst_difference(PALETTES["cs231n"]) < 40


def test_colours_are_configurable():
    report = adcompare.trace("x*y", at=(2, 3), methods=("reverse",))
    assert '<font color="#112233">' in render_graph(report, colors="#112233,#445566")
    assert PALETTES["cs231n"][0] in render_graph(report, colors="cs231n")
    with pytest.raises(ValueError):
        colours("red")
    assert cli("graph", "x*y", "--at", "2,3", "--colors", "nope,").returncode == 2


def test_notebook_gets_the_picture_not_its_source(baydin):
    drawing = baydin.drawing()
    assert isinstance(drawing, GraphDrawing)
    # A Markdown form beside the SVG is what made Jupyter show the DOT source.
    assert not hasattr(drawing, "_repr_markdown_") and not hasattr(drawing, "_repr_html_")
    if shutil.which("dot") is not None:
        assert drawing._repr_svg_().lstrip().startswith(("<?xml", "<svg", "<!DOCTYPE"))
    else:
        assert drawing._repr_svg_() is None


def test_a_named_output_is_named_once_in_the_titles():
    # "f = (x+y)*z" (CS231n's circuit, named as the docs suggest) used to be titled
    # "f = f = (x+y)*z" in the drawing and on the stepping page; the text header had it right.
    from adcompare.render.stepping import steps_and_rows  # noqa: F401  (the page's own module)
    from adcompare.render.style import expression_source
    report = adcompare.trace("f = (x+y)*z", at=(-2, 5, -4), methods=("reverse",))
    assert expression_source(report.graph) == "(x+y)*z"
    dot = render_graph(report)
    assert "label=<f = (x+y)*z<br/>" in dot and "f = f =" not in dot
    assert report.render("text", tables=["header"]).splitlines()[0] == "f(x, y, z) = (x+y)*z"
    # An unnamed expression keeps its text; a name that is also a prefix of an input is not cut.
    assert "label=<f = (x+y)*z<br/>" in render_graph(adcompare.trace("(x+y)*z", at=(-2, 5, -4)))
    report = adcompare.trace("x = x1*x2", at=(2, 3), methods=("reverse",))
    assert "label=<x = x1*x2<br/>" in render_graph(report)


def test_the_legend_reads_as_a_sentence_in_both_directions(baydin):
    # TB used to say "value left the line, adjoint right".
    legend = lambda dot: re.sub(r"<[^>]+>|&#160;", " ", re.search(r"label=<[^<]*<br/>(.*)>;", dot).group(1))
    assert " ".join(legend(render_graph(baydin)).split()) == "value above the line, adjoint below"
    assert " ".join(legend(render_graph(baydin, rankdir="TB")).split()) == "value left of the line, adjoint right of it"


def test_report_render_takes_the_views_the_lecture_notes_show():
    # docs/lecture.md, "In a notebook": report.render("latex", wrt="x1", tables=["table2"],
    # columns="paper") raised TypeError (render took no tables or columns).
    report = adcompare.trace("ln(x1)+x1*x2-sin(x2)", at={"x1": 2, "x2": 5})
    latex = report.render("latex", wrt="x1", tables=["table2"], columns="paper")
    assert r"\dot{v}_{1}" in latex and "Symbolic" not in latex and r"\dot{x}_{2}" in latex
    assert r"= \dot{v}_{-1} / v_{-1}" in latex and "= 1 / 2" in latex     # Table 2's row v̇₁, the paper's columns
