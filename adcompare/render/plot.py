"""The step study as the classic V-shaped log-log plot (needs matplotlib: the ``plot`` extra),
with guide lines for the slopes that explain it: truncation O(h) (forward) and O(h²)
(central), round-off O(ε/h). Each guide is anchored on the study's own points: the
truncation lines at the largest step, the round-off line at the smallest.
"""

from ..errors import AdcompareError

DEFAULT_DPI = 200
GUIDES = (("O(h)", 1, "--"), ("O(h²)", 2, "-."), ("O(ε/h)", -1, ":"))


def _pyplot():
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise AdcompareError("--plot needs matplotlib, which is not installed: "
                             "pip install 'adcompare[plot]'") from None
    return plt


def step_figure(study, graph):
    """The matplotlib Figure of the study: both schemes' errors, the best steps marked, the guides."""
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(6.4, 4.4))
    points = {}
    for scheme, marker in (("forward", "o"), ("central", "s")):
        points[scheme] = [(r.step, getattr(r, f"{scheme}_error")) for r in study.rows
                          if getattr(r, f"{scheme}_error") not in (None, 0.0)]
        axes.loglog(*zip(*points[scheme]), marker=marker, label=f"{scheme} difference")
    steps = [h for h, _ in points["forward"] + points["central"]]
    errors = [e for _, e in points["forward"] + points["central"]]
    low, high = min(steps), max(steps)
    anchors = {1: max(points["forward"]), 2: max(points["central"]),
               -1: min(points["forward"] + points["central"])}   # (step, error) at an end
    for label, slope, style in GUIDES:
        h0, e0 = anchors[slope]
        axes.loglog([low, high], [e0 * (low / h0) ** slope, e0 * (high / h0) ** slope], linestyle=style,
                    color="0.45", linewidth=1.2, label=label)
    bottom, top = min(errors) / 30, max(errors) * 30
    axes.set_ylim(bottom, top)
    axes.set_xlim(low / 3, high * 3)
    for scheme in ("forward", "central"):
        best = study.best(scheme)
        error = max(getattr(best, f"{scheme}_error"), 1e-300)
        # Above its point, so that it never falls on the axis below.
        axes.annotate(f"best {scheme}", (best.step, error), textcoords="offset points", xytext=(0, 9),
                      ha="center", va="bottom", fontsize=8)
    axes.set_xlabel("step h")
    axes.set_ylabel(f"absolute error against the {study.reference_method} reference")
    axes.set_title(f"∂/∂{graph.variables[study.variable]} of {graph.source}", fontsize=10)
    axes.grid(True, which="major", alpha=0.3)
    axes.legend(fontsize=8, ncol=2)
    figure.tight_layout()
    return figure


def plot_step_study(study, graph, path, dpi=DEFAULT_DPI):
    """Write the error-versus-step plot of ``study`` to ``path`` (.svg, .png at ``dpi``, or .pdf)."""
    figure = step_figure(study, graph)
    try:
        figure.savefig(path, dpi=dpi)
    finally:
        _pyplot().close(figure)
