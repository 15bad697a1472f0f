"""Beamer output (issue 14, items 3 and the row-by-row build): every table of Baydin's example
and of every catalogue example fits a 4:3 and a 16:9 frame, checked by compiling with
pdflatex — no overfull box, every fitted table within the frame's room, none scaled below
half its size — and each trace is revealed row by row in the order its sweep runs.
"""

import re
import shutil
import subprocess

import pytest

import adcompare
from adcompare.catalogue import CATALOGUE
from adcompare.render import beamer, common

BAYDIN = "ln(x1)+x1*x2-sin(x2)"
FIT = re.compile(r"adcompare-fit: shown ([\d.]+)pt x ([\d.]+)pt\s+room ([\d.]+)pt x ([\d.]+)pt")
NATURAL = re.compile(r"adcompare-fit: natural ([\d.]+)pt x ([\d.]+)pt")


def _needs_beamer():
    if shutil.which("pdflatex") is None:
        return "pdflatex is not installed (Debian: texlive-latex-base)"
    done = subprocess.run(["kpsewhich", "beamer.cls", "pgfmath.sty", "lmodern.sty"], capture_output=True, text=True)
    if len(done.stdout.split()) < 3:
        return "beamer, pgf or lmodern is missing (Debian: texlive-latex-recommended texlive-pictures lmodern)"
    return None


needs_beamer = pytest.mark.skipif(_needs_beamer() is not None, reason=str(_needs_beamer()))


def deck(aspect):
    """One document: the frames of Baydin's example and of every catalogue example."""
    frames = []
    for expression, point in [(BAYDIN, {"x1": 2, "x2": 5})] + [(e.expression, dict(e.point)) for e in CATALOGUE]:
        # The overlays keep every cell's room (\uncover), so the fit is that of the whole table:
        # frames without them compile in a fraction of the time.
        text = common.render_report(adcompare.trace(expression, at=point), beamer.BEAMER_FORMAT._replace(reveal=None))
        frames.append(text.replace(beamer.MACROS, ""))
    preamble = beamer.PREAMBLE.replace("aspectratio=169", f"aspectratio={aspect}")
    return preamble + "\\begin{document}\n" + beamer.MACROS + "\n".join(frames) + "\\end{document}\n"


@needs_beamer
@pytest.mark.parametrize("aspect", ["43", "169"])
def test_every_example_fits_a_frame(tmp_path, aspect):
    source = tmp_path / f"deck{aspect}.tex"
    source.write_text(deck(aspect), encoding="utf-8")
    done = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", source.name],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    log = (tmp_path / f"deck{aspect}.log").read_text(encoding="latin-1")
    assert done.returncode == 0, done.stdout[-3000:]
    assert "Overfull" not in log, re.findall(r"Overfull.*", log)[:5]
    fits = [tuple(map(float, m)) for m in FIT.findall(log)]
    natural = [tuple(map(float, m)) for m in NATURAL.findall(log)]
    assert len(fits) == len(natural) > 100
    for (width, height, room_width, room_height), (natural_width, _) in zip(fits, natural):
        assert width <= room_width + 0.1 and height <= room_height + 0.1
        assert width / natural_width >= 0.5        # readable: never below half its size


def test_rows_are_revealed_in_the_order_of_their_sweep():
    report = adcompare.trace(BAYDIN, at=(2, 5))
    text = beamer.render_report(report, tables=["table3"])
    frame = text.split("\\begin{frame}")[1]
    rows = [line for line in frame.splitlines() if line.lstrip().startswith(("\\uncover", "&"))
            or "\\uncover" in line]
    steps = [sorted({int(s) for s in re.findall(r"\\uncover<(\d+)->", line)}) for line in rows]
    # Primal rows first, top down: v₋₁ … y are steps 1 … 8 (the output row y is slot 7's).
    primal_steps = [s[0] for s in steps if s and s[0] <= 8]
    assert primal_steps == sorted(primal_steps)
    # The adjoint side: the seed v̄₅ = ȳ (bottom row) is step 9, the first of the sweep;
    # x̄₁, x̄₂ (top rows) come last, 18 and 19 (Table 3 has 11 adjoint rows: steps 9 … 19).
    seed = next(line for line in rows if r"\bar{y}" in line)
    assert "\\uncover<9->{\\alert<9>{$\\bar{v}_{5}$}}" in seed
    top = next(line for line in rows if r"\bar{x}_{1}" in line)
    assert "\\uncover<18->{\\alert<18>{$\\bar{x}_{1}$}}" in top
    assert "\\alert<19>" in next(line for line in rows if r"\bar{x}_{2}" in line)


def test_beamer_uses_the_papers_columns_unless_asked():
    report = adcompare.trace(BAYDIN, at=(2, 5))
    text = beamer.render_report(report, tables=["table2"], wrt="x1")
    assert "2 \\times 5" in text and "= 10$" not in text.split("v_{2}")[1].split("\\\\")[0]
    assert "= 10$" in beamer.render_report(report, tables=["table2"], wrt="x1", columns="all")


def test_cli_beamer_standalone(tmp_path):
    from adcompare.cli import main
    out = tmp_path / "b.tex"
    assert main(["trace", BAYDIN, "--at", "2,5", "--format", "beamer", "--standalone", "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert text.startswith("\\documentclass[aspectratio=169]{beamer}") and "\\usepackage{lmodern}" in text
