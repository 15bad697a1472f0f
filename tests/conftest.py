"""Shared fixtures."""

import builtins
import sys

import pytest
import sympy
from hypothesis import settings

# The default run draws the same examples on every machine and every run (a seed derived
# from each test), so that CI's verdict and its duration do not depend on luck; the long
# runs in benchmarks/ (fuzz_agreement.py, fuzz_kinks.py) draw new ones each time.
settings.register_profile("repeatable", derandomize=True, database=None)
settings.load_profile("repeatable")


@pytest.fixture
def text_guard(monkeypatch):
    """Guards eval, exec, sympify and parse_expr for the test's duration and returns the
    list of any string arguments containing the marker 'zqmarker' that reach them."""
    import sympy.parsing.sympy_parser as sympy_parser
    seen = []

    def guard(original):
        def wrapper(source, *args, **kwargs):
            if isinstance(source, str) and "zqmarker" in source:
                seen.append(source)
            return original(source, *args, **kwargs)
        return wrapper

    sympify_module = sys.modules["sympy.core.sympify"]
    monkeypatch.setattr(builtins, "eval", guard(builtins.eval))
    monkeypatch.setattr(builtins, "exec", guard(builtins.exec))
    monkeypatch.setattr(sympy, "sympify", guard(sympy.sympify))
    monkeypatch.setattr(sympify_module, "sympify", guard(sympify_module.sympify))
    monkeypatch.setattr(sympy_parser, "parse_expr", guard(sympy_parser.parse_expr))
    return seen
