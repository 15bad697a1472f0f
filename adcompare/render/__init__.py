"""Renderers: one module per output format; they read Results and never compute derivatives.

`FORMATS` maps a format name to its report renderer,
``render(report, digits=3, wrt=None, standalone=False) -> str``; a format's module is
imported when it is first asked for (the command line needs one per run).
"""

from collections.abc import Mapping
from importlib import import_module


class _Formats(Mapping):
    """Format name → the ``render_report`` of its module, imported on first use."""

    _NAMES = ("text", "markdown", "latex", "beamer", "html", "json")

    def __getitem__(self, name):
        if name not in self._NAMES:
            raise KeyError(name)
        return import_module(f"{__name__}.{name}").render_report

    def __iter__(self):
        return iter(self._NAMES)

    def __len__(self):
        return len(self._NAMES)


FORMATS = _Formats()
