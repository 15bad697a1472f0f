"""HTML for course pages and notebooks: Baydin's side-by-side layout, Unicode names,
one ``<tbody>`` per section of a trace so that rules fall between inputs, body and outputs.

    >>> from adcompare import trace
    >>> "<td>v̇₂</td>" in render_report(trace("ln(x1)+x1*x2-sin(x2)", at=(2, 5)))
    True
"""

import html
import re

from tabulate import tabulate

from . import common
from .style import TEXT, spanning_bars, sympy_text

_STYLE = """<style>
.adcompare .scroll { overflow-x: auto; max-width: 100%; }
.adcompare table { border-collapse: collapse; margin: 0.5em 0 1.2em 0;
                   border-top: 2px solid currentColor; border-bottom: 2px solid currentColor; }
.adcompare td, .adcompare th { padding: 0.15em 0.7em; text-align: left; white-space: nowrap; }
.adcompare thead th { border-bottom: 1px solid currentColor; }
.adcompare tbody + tbody { border-top: 1px solid currentColor; }
.adcompare .overline { text-decoration: overline; }
@media (prefers-color-scheme: dark) { .adcompare.page { background: #1b1b1b; color: #e6e6e6; } }
</style>"""


def _body_rows(rows):
    """The <tr> rows tabulate lays out for one section."""
    text = tabulate(rows, tablefmt="unsafehtml", disable_numparse=True)
    inner = text.split("<tbody>", 1)[1].rsplit("</tbody>", 1)[0]
    return re.sub(r" +</td>", "</td>", "\n".join(line.strip() for line in inner.strip().splitlines()))


def _table(title, headers, groups, sections):
    # tabulate lays out each section's rows; sections become <tbody> elements so CSS draws
    # the rules between them (tabulate's own html format cannot put rules inside a table).
    head = ""
    if groups:
        head = "<thead><tr>" + "".join(f'<th colspan="{span}">{group}</th>' for group, span in groups) + "</tr></thead>\n"
    elif headers:
        head = "<thead><tr>" + "".join(f"<th>{h}</th>" for h in headers) + "</tr></thead>\n"
    bodies = "\n".join(f"<tbody>\n{_body_rows(section)}\n</tbody>" for section in sections)
    caption = f"<h3>{title}</h3>\n" if title else ""
    # A wide table scrolls inside its own box rather than being cut at the page's edge.
    return f'{caption}<div class="scroll"><table>\n{head}{bodies}\n</table></div>'


def with_overlines(text):
    """A multi-letter name's bar as one straight line (see `style.spanning_bars`)."""
    return spanning_bars(text, '<span class="overline">', "</span>")


def _document(pieces, standalone):
    body = with_overlines("\n".join(text if kind == "table" else f"<p>{text}</p>" for kind, text in pieces))
    if not standalone:
        return f'<div class="adcompare">\n{_STYLE}\n{body}\n</div>\n'
    return page("adcompare trace", f'<div class="adcompare page">\n{_STYLE}\n{body}\n</div>\n')


def page(title, body, head=""):
    """A complete HTML page around ``body``, light or dark as the reader's system is."""
    return ('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="color-scheme" content="light dark">\n'
            f"<title>{html.escape(title)}</title>\n{head}</head>\n<body>\n{body}</body>\n</html>\n")


HTML_FORMAT = common.Format(
    name="html", style=TEXT, math=html.escape, text=html.escape, code=lambda s: f"<code>{html.escape(s)}</code>",
    sympy=sympy_text,   # names as everywhere else; escaped once, as math
    title=lambda t: t, note=lambda t: t, table=_table,
    document=_document, side_by_side=True)


def render_report(report, digits=3, wrt=None, standalone=False, **view):
    """The report as an HTML fragment, or a complete page with ``standalone``."""
    return common.render_report(report, HTML_FORMAT, digits, wrt, standalone, **view)
