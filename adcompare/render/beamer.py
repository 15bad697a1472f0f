r"""Beamer slides: one frame per table, sized to the frame, each trace revealed row by row.

Every table is set in \footnotesize and, if it is still wider than the frame's text or
taller than its room below the title, scaled down to fit (`\adcfit`, which writes the
natural and fitted sizes to the log), so a table never runs off a 4:3 or a 16:9 frame and
pdflatex reports no overfull box. In a trace's frame each row is uncovered in turn, the
current row in the alert colour: Table 2 top down; Table 3 the primal rows top down (the
forward sweep), then the adjoint rows in the order the reverse sweep runs, from the seed
at the bottom up. Without ``standalone`` the output is the frames and the macros they need,
to \input into a beamer document (which loads amsmath); with it, a complete 16:9 document
(`aspectratio=43` in its first line gives 4:3).

    >>> from adcompare import trace
    >>> text = render_report(trace("x*y", at=(2, 3)), tables=["table3"])
    >>> r"\uncover<8->{\alert<8>{$\bar{x}$}}" in text   # x̄'s row: step 8 of 9 (4 primal, 5 adjoint)
    True
"""

from . import common, latex

MACROS = r"""\providecommand{\adcfit}{}
\newsavebox{\adcbox}
\newlength{\adcroom}
% \adcfit{box}: the box as it is, or scaled down to the frame's width and the room below
% its title; the log gets "adcompare-fit: natural W x H" and "... shown W x H room W x H".
\renewcommand{\adcfit}[1]{%
  \setlength{\adcroom}{\dimexpr\textheight-64pt\relax}% below a title of up to two lines
  \sbox{\adcbox}{#1}%
  \typeout{adcompare-fit: natural \the\wd\adcbox\space x \the\dimexpr\ht\adcbox+\dp\adcbox\relax}%
  \ifdim\wd\adcbox>\linewidth\sbox{\adcbox}{\resizebox{\linewidth}{!}{\usebox{\adcbox}}}\fi
  \ifdim\dimexpr\ht\adcbox+\dp\adcbox\relax>\adcroom\sbox{\adcbox}{\resizebox*{!}{\adcroom}{\usebox{\adcbox}}}\fi
  \typeout{adcompare-fit: shown \the\wd\adcbox\space x \the\dimexpr\ht\adcbox+\dp\adcbox\relax
    \space room \the\linewidth\space x \the\adcroom}%
  \noindent\usebox{\adcbox}}
"""

PREAMBLE = r"""\documentclass[aspectratio=169]{beamer}
\usepackage[utf8]{inputenc}
\usepackage[T1]{fontenc}
\usepackage{lmodern}
\usepackage{amsmath}
\setbeamertemplate{navigation symbols}{}
"""


def _table(title, headers, groups, sections):
    if groups:
        # The frame's title is the tangent's or adjoint's, with its seed (on one line); the
        # columns' spanning titles are short, so that they never widen a column.
        right = groups[-1][0]
        title = right.split("; read")[0] + ")" if "; read" in right else right
        groups = [(group.split(" for ")[0], span) for group, span in groups]
    text = latex.tabular(sections, headers, groups)
    return (f"\\begin{{frame}}[t]{{{title}}}\n\\footnotesize\\setlength{{\\tabcolsep}}{{3pt}}\n"
            f"\\adcfit{{{text.strip()}}}\n\\end{{frame}}")


def _document(pieces, standalone):
    frames, notes = [], []

    def flush():
        if notes:
            body = "\\\\[0.5ex]\n".join(notes)
            frames.append(f"\\begin{{frame}}[t]\n\\small\n\\adcfit{{\\parbox{{\\linewidth}}{{\\raggedright\n"
                          f"{body}}}}}\n\\end{{frame}}")
            notes.clear()

    for kind, text in pieces:
        if kind == "table":
            flush()
            frames.append(text)
        else:
            notes.append(text)
    flush()
    body = MACROS + "\n" + "\n\n".join(frames) + "\n"
    return PREAMBLE + "\\begin{document}\n" + body + "\\end{document}\n" if standalone else body


def _reveal(text, step):
    return f"\\uncover<{step}->{{\\alert<{step}>{{{text}}}}}"


BEAMER_FORMAT = latex.LATEX_FORMAT._replace(name="beamer", table=_table, document=_document, reveal=_reveal,
                                            columns="paper")


def render_report(report, digits=3, wrt=None, standalone=False, **view):
    """The report as beamer frames: the frames and their macros, or a whole 16:9 document
    with ``standalone``."""
    return common.render_report(report, BEAMER_FORMAT, digits, wrt, standalone, **view)
