"""Load the public student code in thirdparty/ (not in git; see thirdparty/SOURCES.md),
optionally with a bug edited in as a student would: a textual replacement in the source."""
import importlib.util, pathlib, sys, types

HERE = pathlib.Path(__file__).parent / "thirdparty"
sys.path.insert(0, str(HERE / "dlfs"))


def load(name, *edits):
    """Module thirdparty/<name>.py, with each (old, new) edit applied once (it must match once)."""
    path = HERE / f"{name}.py"
    src = path.read_text()
    for old, new in edits:
        assert src.count(old) == 1, (name, old, src.count(old))
        src = src.replace(old, new)
    tag = "_bug" if edits else ""
    mod = types.ModuleType(name + tag)
    mod.__file__ = str(path) if not edits else str(path.with_name(f"{name}{tag}.py"))
    if edits:  # write the edited copy so tracebacks and "at line N" point at real text
        pathlib.Path(mod.__file__).write_text(src)
    exec(compile(src, mod.__file__, "exec"), mod.__dict__)
    sys.modules[mod.__name__] = mod
    return mod


def numeric_gradient_array(f, x, df, h=1e-5):
    """The plain central-difference check the assignments use: for each entry i,
    sum(df * (f(x + h e_i) - f(x - h e_i))) / 2h.  (Written here in our own words.)"""
    import numpy as np
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        i = it.multi_index
        old = x[i]
        x[i] = old + h
        pos = np.array(f(x)).copy()
        x[i] = old - h
        neg = np.array(f(x)).copy()
        x[i] = old
        grad[i] = np.sum((pos - neg) * df) / (2 * h)
        it.iternext()
    return grad


def rel_error(x, y):
    import numpy as np
    return np.max(np.abs(x - y) / (np.maximum(1e-8, np.abs(x) + np.abs(y))))
