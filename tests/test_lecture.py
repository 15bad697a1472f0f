"""The graph drawing, the step study, the lecture catalogue and their commands."""

import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import adcompare
from adcompare.catalogue import CATALOGUE
from adcompare.errors import AdcompareError
from adcompare.lecture import check_catalogue
from adcompare.render.dot import render_graph
from adcompare.studies import step_study

REPO = Path(__file__).resolve().parents[1]
BAYDIN = "ln(x1)+x1*x2-sin(x2)"


def cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "adcompare", *args], capture_output=True, text=True,
                          encoding="utf-8", env=env, timeout=120)


def test_graph_draws_constants_as_their_own_nodes():
    dot = render_graph(adcompare.trace("x^2 + pi", at=(3,), methods=("reverse",)))
    assert '[shape=plaintext, label="2"]' in dot and '[shape=plaintext, label="π"]' in dot


def test_graph_command_dot_and_svg(tmp_path):
    done = cli("graph", BAYDIN, "--at", "2,5")
    assert done.returncode == 0 and done.stdout.startswith("digraph")
    if subprocess.run(["which", "dot"], capture_output=True).returncode == 0:
        out = tmp_path / "g.svg"
        done = cli("graph", BAYDIN, "--at", "2,5", "--out", str(out))
        assert done.returncode == 0, done.stderr
        assert "<svg" in out.read_text()


def test_graph_command_without_graphviz_says_what_is_missing(tmp_path):
    env = {**os.environ, "PATH": str(tmp_path)}   # no dot on this PATH
    done = cli("graph", BAYDIN, "--at", "2,5", "--format", "svg", env=env)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "Graphviz's 'dot' program" in done.stderr
    assert "Traceback" not in done.stderr


def test_step_study_truncation_errors_match_taylor():
    # f = exp at 1, so the exact forward quotient is e(e^h − 1)/h and the central one
    # e·sinh(h)/h; their errors against e are what the study must report.
    study = step_study(adcompare.parse("exp(x)"), (1.0,), variable=0)
    first = study.rows[0]
    h = first.step
    assert h == pytest.approx(0.1, rel=1e-12)
    assert first.forward_error == pytest.approx(math.e * (math.expm1(h) / h - 1), rel=1e-8)
    assert first.central_error == pytest.approx(math.e * (math.sinh(h) / h - 1), rel=1e-8)
    # The V: the best central step is large (≈ ε^(1/3)), the best forward one smaller (≈ ε^(1/2)).
    assert 1e-7 <= study.best("central").step <= 1e-4
    assert 1e-10 <= study.best("forward").step <= 1e-7
    assert study.rows[-1].central_error > 1e3 * study.best("central").central_error


def test_steps_command_marks_the_best_steps():
    done = cli("steps", "exp(x)*y", "--at", "x=1,y=2", "--wrt", "x")
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("◀ best") == 2
    assert "reference (symbolic): 5.4365636569180905" in done.stdout   # 2e, to 17 digits


def test_step_plot_needs_matplotlib(monkeypatch, tmp_path):
    from adcompare.render.plot import plot_step_study
    graph = adcompare.parse("exp(x)")
    study = step_study(graph, (1.0,), variable=0)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(AdcompareError, match=r"pip install 'adcompare\[plot\]'"):
        plot_step_study(study, graph, tmp_path / "v.svg")


def test_step_plot_draws_when_matplotlib_is_there(tmp_path):
    pytest.importorskip("matplotlib")
    from adcompare.render.plot import plot_step_study
    graph = adcompare.parse("exp(x)")
    plot_step_study(step_study(graph, (1.0,), variable=0), graph, tmp_path / "v.svg")
    assert "<svg" in (tmp_path / "v.svg").read_text()


def test_traces_folder_is_up_to_date():
    stale = check_catalogue(REPO / "traces")
    assert stale == [], f"traces/ is out of date ({stale}); run: adcompare lecture --out traces"


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed (Debian: graphviz): "
                    "the lecture folder has PNG drawings")
def test_lecture_check_command(tmp_path):
    assert cli("lecture", "--out", str(tmp_path), "--check").returncode == 1
    assert cli("lecture", "--out", str(tmp_path)).returncode == 0
    assert cli("lecture", "--out", str(tmp_path), "--check").returncode == 0
    assert {p.suffix for p in tmp_path.iterdir()} == {".md", ".tex", ".dot", ".png", ".html"}


def _gradient(key):
    example = next(e for e in CATALOGUE if e.key == key)
    report = adcompare.trace(example.expression, at=dict(example.point))
    assert report.agree
    return report.results["reverse"].jacobian[0], report.primal[-1].value


# Numbers as the sources publish them (rounded there; compared to that rounding here).
def test_cs231n_circuit_matches_the_lecture():
    gradient, value = _gradient("cs231n-circuit")
    assert value == -12 and gradient.tolist() == [-4, -4, 3]


def test_cs231n_sigmoid_neuron_matches_the_lecture():
    gradient, value = _gradient("cs231n-sigmoid-neuron")   # w0, x0, w1, x1, w2
    assert round(float(value), 2) == 0.73
    assert [round(float(g), 2) for g in gradient] == [-0.2, 0.39, -0.39, -0.59, 0.2]


def test_apples_and_watermelon_by_hand():
    # total = (10·2 + 30·1)·1.05 = 52.5; ∂/∂apple = 2·1.05, ∂/∂apples = 10·1.05,
    # ∂/∂watermelon = 1.05, ∂/∂watermelons = 30·1.05, ∂/∂tax = 50.
    gradient, value = _gradient("apples-and-watermelon")
    assert value == pytest.approx(52.5, rel=1e-15)
    assert gradient.tolist() == pytest.approx([2.1, 10.5, 1.05, 31.5, 50.0], rel=1e-15)


def test_micrograd_tanh_neuron_matches_the_lecture():
    gradient, value = _gradient("tanh-neuron")   # x1, x2, w1, w2, b
    assert round(float(value), 4) == 0.7071
    assert [round(float(g), 4) for g in gradient] == [-1.5, 0.5, 1.0, 0.0, 0.5]


def test_cli_guesses_the_format_from_the_extension(tmp_path):
    for suffix, marker in ((".md", "**Forward primal trace"), (".tex", r"\begin{tabular}"),
                           (".html", "<table>"), (".json", '"agree": true')):
        out = tmp_path / f"baydin{suffix}"
        done = cli("trace", BAYDIN, "--at", "2,5", "--out", str(out))
        assert done.returncode == 0 and done.stdout == "", done.stderr
        assert marker in out.read_text(encoding="utf-8")
    done = cli("trace", BAYDIN, "--at", "2,5", "--out", str(tmp_path / "baydin.xyz"))
    assert done.returncode == 2 and "--format" in done.stderr
