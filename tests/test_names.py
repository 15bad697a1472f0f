"""Names done once for every format (issue 14, items 1, 2 and 7): the output's name never
collides with an input's; x1 and x_1 are x₁; Greek names are Greek letters with their
subscripts; a multi-letter name is one symbol whose dot or bar spans it; LaTeX's small
details. Expected strings are written by hand from the conventions (Baydin's x₁, ẋ₁, x̄₁;
LaTeX's \\dot, \\bar, \\overline), not taken from our output.
"""

import json
import math
import subprocess
import sys
import unicodedata

import pytest

import adcompare
from adcompare.errors import AdcompareError
from adcompare.render import html as html_render
from adcompare.render import json as json_render
from adcompare.render import latex, markdown
from adcompare.render.dot import render_graph
from adcompare.render.style import LATEX, TEXT, latex_name, output_names, text_name
from adcompare.render.text import render_report

DOT, BAR, OVERLINE = "\u0307", "\u0304", "\u0305"


def nfc(text):
    return unicodedata.normalize("NFC", text)


@pytest.fixture(scope="module")
def circuit():
    return adcompare.trace("(x+y)*z", at=(-2, 5, -4))


def test_the_output_is_not_named_like_an_input(circuit):
    # CS231n's circuit has an input y; its output is f, as CS231n calls it.
    assert output_names(circuit.graph) == ("f",)
    text = nfc(render_report(circuit))
    # The seed is f̄ = 1 and the tangent of the output ḟ; ȳ and ẏ name only the input's.
    assert nfc("v̄₂   = f" + BAR) in text and nfc("f" + DOT + "    = v̇₂") in text
    assert text.count("= ȳ") == 0 and text.count("ȳ    = v̄₋₁") == 1
    assert "∂f/∂y" in text and "∂y/∂y" not in text
    graph = render_graph(circuit)
    assert graph.count(">y<") + graph.count(">y<br") <= 1 and ">f<" in graph


def test_every_format_names_the_output_alike(circuit):
    for render in (markdown.render_report, html_render.render_report):
        assert "f̄" in render(circuit) and "∂f/∂y" in render(circuit)
    assert r"\bar{f}" in latex.render_report(circuit)
    data = json.loads(json_render.render_report(circuit))
    assert data["primal_trace"][-1]["name"] == "f" and data["outputs"] == ["f"]


def test_the_user_names_the_output():
    named = adcompare.trace("loss = (x+y)*z", at=(-2, 5, -4), methods=("reverse",))
    assert output_names(named.graph) == ("loss",)
    text = render_report(named)
    assert text.splitlines()[0] == "loss(x, y, z) = (x+y)*z"
    assert "l̅o̅s̅s̅ = 1" in nfc(text) or "= l̅o̅s̅s̅" in nfc(text)
    given = adcompare.trace("(x+y)*z", at=(-2, 5, -4), methods=("reverse",), output_names=["q"])
    assert output_names(given.graph) == ("q",)
    two = adcompare.trace("a = x*y, b = sin(x)", at=(1, 2), methods=("reverse",))
    assert output_names(two.graph) == ("a", "b")


@pytest.mark.parametrize("expression, names, message", [
    ("x = x*2", None, "already an input's name"),
    ("f = x, f = y", None, "already another output's name"),
    ("sin = x", None, "already a function's name"),
    ("x*y", ["x"], "already an input's name"),
    ("x*y, x", ["f", "f"], "given twice"),
    ("x*y", ["f", "g"], "1 output name needed"),
])
def test_colliding_output_names_are_refused(expression, names, message):
    with pytest.raises(AdcompareError, match=message):
        adcompare.trace(expression, at={"x": 1, "y": 2}, methods=("reverse",), output_names=names)


def test_output_name_on_the_command_line():
    done = subprocess.run([sys.executable, "-m", "adcompare", "trace", "(x+y)*z", "--at", "-2,5,-4",
                           "--output-name", "y", "--methods", "reverse"], capture_output=True, text=True)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "already an input's name" in done.stderr
    done = subprocess.run([sys.executable, "-m", "adcompare", "trace", "(x+y)*z", "--at", "-2,5,-4",
                           "--output-name", "q", "--methods", "reverse", "--table", "header"],
                          capture_output=True, text=True)
    assert done.stdout.startswith("q(x, y, z) = ")


def test_default_output_names_avoid_every_input():
    from adcompare.parse import parse
    assert output_names(parse("x+z")) == ("y",)
    assert output_names(parse("x*z, sin(x)")) == ("y1", "y2")
    assert output_names(parse("y + f")) == ("g",)
    assert output_names(parse("y1 + x")) == ("f",)   # y1 would read as y₁, the input's symbol


@pytest.mark.parametrize("name, text, latex_text", [
    ("x1", "x₁", "x_{1}"),
    ("x_1", "x₁", "x_{1}"),
    ("x10", "x₁₀", "x_{10}"),
    ("sigma_1", "σ₁", r"\sigma_{1}"),
    ("theta2", "θ₂", r"\theta_{2}"),
    ("Omega", "Ω", r"\Omega"),
    ("lambda_3", "λ₃", r"\lambda_{3}"),
    ("x_i", "xᵢ", "x_{i}"),
    ("w_out", "w_out", r"w_{\mathit{out}}"),
    ("apple", "apple", r"\mathit{apple}"),
])
def test_names(name, text, latex_text):
    assert text_name(name) == text
    assert latex_name(name) == latex_text


def test_marks_sit_over_the_whole_symbol_never_its_first_letter():
    # One letter (Latin or Greek): one accent, before the subscript.
    assert text_name("sigma_1", DOT) == nfc("σ" + DOT + "₁")
    assert text_name("x1", BAR) == nfc("x" + BAR + "₁")
    assert latex_name("sigma_1", DOT) == r"\dot{\sigma}_{1}"
    assert latex_name("x_1", BAR) == r"\bar{x}_{1}"
    # Several letters: a bar over the whole word; a dot over each of its letters.
    assert text_name("apple", BAR) == "".join(c + OVERLINE for c in "apple")
    assert text_name("apple", DOT) == nfc("".join(c + DOT for c in "apple"))
    assert latex_name("apple", BAR) == r"\overline{\mathit{apple}}"
    # Each dot from the math font: \dot inside \mathit takes T1's "_" and strikes the word through.
    assert latex_name("apple", DOT) == "".join(rf"\dot{{\mathit{{{c}}}\vphantom{{l}}}}" for c in "apple")


def test_the_same_names_in_every_format():
    report = adcompare.trace("sigma_1*apple + x_1", at={"sigma_1": 2, "apple": 3, "x_1": 1}, methods=("reverse",))
    sigma_bar, apple_bar = nfc("σ" + BAR + "₁"), "".join(c + OVERLINE for c in "apple")
    # A multi-letter bar is one line: combining overlines in plain text and Markdown, drawn
    # by markup in HTML and in Graphviz (fonts set U+0305 higher over tall letters).
    for text, bar in ((render_report(report), apple_bar), (markdown.render_report(report), apple_bar),
                      (html_render.render_report(report), '<span class="overline">apple</span>'),
                      (render_graph(report), "<o>apple</o>")):
        text = nfc(text)
        assert sigma_bar in text and bar in text and "x̄₁" in text and OVERLINE not in text.replace(apple_bar, "")
        traces = text.split("sigma_1*apple + x_1")[-1]   # past the expression as typed
        assert "ṡigma" not in traces and "s̄igma" not in traces and "sigma" not in traces
    tex = latex.render_report(report)
    assert r"\bar{\sigma}_{1}" in tex and r"\overline{\mathit{apple}}" in tex and r"\bar{x}_{1}" in tex


def test_latex_details():
    report = adcompare.trace("(x+y)^2", at=(-2, 5))
    tex = latex.render_report(report, standalone=True)
    assert r"\usepackage{lmodern}" in tex
    assert "at $x$ = $-2$" in tex                       # a minus sign, not a hyphen
    assert r"\bar{v}_{2} \, \partial v_{2}/\partial v_{1}" in tex   # v̄₂ ∂v₂/∂v₁ with a space
    assert r"\varepsilon^{1/3}" in tex and "^(" not in tex.replace(r"\^", "")
    # The partial of v₁² is 2 × v₁, not 2 × v₁^{2 − 1}.
    assert r"\bar{v}_{2} \times 2 \times v_{1}" in tex and "2 - 1" not in tex


def test_rounded_values_keep_their_decimals():
    # CS231n's sigmoid neuron: ∂f/∂x1 = w1·σ(1 − σ) = −0.5898…, shown −0.590 beside −0.393.
    report = adcompare.trace("1/(1+exp(-(w0*x0+w1*x1+w2)))", at={"w0": 2, "x0": -1, "w1": -3, "x1": -2, "w2": -3},
                             methods=("reverse",))
    sigma = 1 / (1 + math.exp(-1))
    text = render_report(report, tables=["adjoint"])
    assert f"= {-3 * sigma * (1 - sigma):.3f}".replace("-", "−") == "= −0.590"
    assert "= −0.590" in text and "= −0.393" in text and "= −0.59\n" not in text
    assert "= 1\n" in text   # exact values stay short
