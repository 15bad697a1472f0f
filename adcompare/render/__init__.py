"""Renderers: one module per output format; they read Results and never compute derivatives.

`FORMATS` maps a format name to its report renderer,
``render(report, digits=3, wrt=None, standalone=False) -> str``.
"""

from . import html, json, latex, markdown, text

FORMATS = {"text": text.render_report, "markdown": markdown.render_report, "latex": latex.render_report,
           "html": html.render_report, "json": json.render_report}
