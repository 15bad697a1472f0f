"""The step plot for slides (issue 14, item 8): at least 200 dpi, every label clear of the
axes, and guide lines whose slopes are those of truncation (O(h), O(h²)) and round-off
(O(ε/h)). Geometry is read from matplotlib's own layout of the figure."""

import math
import struct

import pytest

import adcompare
from adcompare.studies import step_study

plt = pytest.importorskip("matplotlib.pyplot")


@pytest.fixture(scope="module")
def figure():
    from adcompare.render.plot import step_figure
    graph = adcompare.parse("exp(x)")
    fig = step_figure(step_study(graph, (1.0,), variable=0), graph)
    fig.canvas.draw()
    yield fig
    plt.close(fig)


def test_guide_lines_have_the_slopes_of_truncation_and_round_off(figure):
    axes = figure.axes[0]
    slopes = {}
    for line in axes.get_lines():
        if line.get_label().startswith("O("):
            (x0, x1), (y0, y1) = line.get_xdata(), line.get_ydata()
            slopes[line.get_label()] = (math.log10(y1) - math.log10(y0)) / (math.log10(x1) - math.log10(x0))
    assert slopes == pytest.approx({"O(h)": 1, "O(h²)": 2, "O(ε/h)": -1})
    labels = [text.get_text() for text in axes.get_legend().get_texts()]
    assert {"O(h)", "O(h²)", "O(ε/h)", "forward difference", "central difference"} <= set(labels)


def test_labels_are_clear_of_the_axes(figure):
    axes = figure.axes[0]
    renderer = figure.canvas.get_renderer()
    frame = axes.get_window_extent(renderer)
    annotations = [child for child in axes.texts if child.get_text().startswith("best")]
    assert len(annotations) == 2
    for annotation in annotations:
        box = annotation.get_window_extent(renderer)
        # Strictly inside the plotting area: it crosses no spine (the "best" label once sat on the axis).
        assert frame.x0 < box.x0 and box.x1 < frame.x1 and frame.y0 < box.y0 and box.y1 < frame.y1
    whole = figure.bbox
    for text in (axes.xaxis.label, axes.yaxis.label, axes.title):
        box = text.get_window_extent(renderer)
        assert whole.x0 <= box.x0 and box.x1 <= whole.x1 and whole.y0 <= box.y0 and box.y1 <= whole.y1


def test_png_is_written_at_200_dpi(tmp_path):
    from adcompare.render.plot import plot_step_study
    graph = adcompare.parse("exp(x)")
    path = tmp_path / "v.png"
    plot_step_study(step_study(graph, (1.0,), variable=0), graph, path)
    width, height = struct.unpack(">II", path.read_bytes()[16:24])
    assert (width, height) == (round(6.4 * 200), round(4.4 * 200))
