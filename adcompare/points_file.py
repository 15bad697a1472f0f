"""Files of points and of Jacobians for ``adcompare trace --at FILE --jacobian-out FILE``.

A points file holds one point a row and one variable a column: ``.csv`` (text; an
optional first row of variable names, in any order) or ``.npy`` (a 2-D numpy array of
integers or floats, read with ``allow_pickle=False``). Without a header, columns are in
variable order. Every problem is a `PointsFileError` with a one-line message naming the
file, and the line and column where it is.

    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "points.csv"
    >>> _ = path.write_text("x2,x1\\n5,2\\n6,3\\n")
    >>> names, array = read_points(path)
    >>> names, array.tolist()
    (['x2', 'x1'], [[5.0, 2.0], [6.0, 3.0]])
"""

import csv
import io
import re
import warnings
from pathlib import Path

import numpy as np

from .errors import InputError

POINT_FILE_SUFFIXES = (".csv", ".npy")
JACOBIAN_FILE_SUFFIXES = (".csv", ".npy")
NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_NOT_FINITE = re.compile(r"[-+]?(nan|inf|infinity)", re.IGNORECASE)


class PointsFileError(InputError):
    """A points file that cannot be read as points, or a Jacobian file that cannot be written."""


def is_points_file(text):
    """Whether an ``--at`` value names a file of points (by its ending: .csv or .npy)."""
    return Path(text).suffix.lower() in POINT_FILE_SUFFIXES


def read_points(path):
    """The points in ``path``: (the header's names or None, a float64 array (N, columns))."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in POINT_FILE_SUFFIXES:
        raise PointsFileError(f"{path}: a points file ends in .csv or .npy")
    try:
        names, array = (_read_csv(path) if suffix == ".csv" else (None, _read_npy(path)))
    except FileNotFoundError:
        raise PointsFileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise PointsFileError(f"{path}: is a folder, not a file") from None
    except OSError as error:
        raise PointsFileError(f"{path}: cannot read it ({error.strerror or error})") from None
    if array.shape[0] == 0:
        raise PointsFileError(f"{path}: no points in it" + (" (only a header)" if names else ""))
    return names, array


def _read_npy(path):
    try:
        array = np.load(path, allow_pickle=False)
    except (ValueError, EOFError):   # not a .npy, truncated, or an object array
        raise PointsFileError(f"{path}: not a .npy array of numbers (not in .npy format, cut short, or Python "
                              "objects, which are never loaded)") from None
    if not isinstance(array, np.ndarray):
        raise PointsFileError(f"{path}: not a .npy array (an .npz archive?)")
    if array.ndim != 2:
        raise PointsFileError(f"{path}: a {array.ndim}-D array of shape {array.shape}; points are a 2-D array, "
                              "one row a point, one column a variable")
    if array.dtype.kind not in "iuf":
        raise PointsFileError(f"{path}: an array of {array.dtype}; points are integers or floats")
    array = array.astype(float)
    bad = ~np.isfinite(array)
    if bad.any():
        row, column = np.argwhere(bad)[0]
        raise PointsFileError(f"{path}: element [{row}, {column}] is {float(array[row, column])}; points must "
                              "be finite")
    return array


def _read_csv(path):
    fast = _read_csv_fast(path)
    return fast if fast is not None else _read_csv_checked(path)


def _read_csv_fast(path):
    """numpy's own parser for a plain file of numbers (an optional header of names, then
    rows of numbers, all finite): about as fast as ``np.loadtxt``. None for anything else,
    which the checked reader then reads, or names the line and column of what is wrong."""
    try:
        with open(path, encoding="utf-8-sig") as file:
            first = file.readline()
            cells = [cell.strip() for cell in first.split(",")]
            names = None
            if cells and all(re.fullmatch(_NAME, c) and not _NOT_FINITE.fullmatch(c) for c in cells):
                names = cells
                if len(set(names)) != len(names):
                    return None
            else:
                file.seek(0)
                if first.startswith("\ufeff"):
                    return None
            with warnings.catch_warnings():
                warnings.simplefilter("error")          # "empty input file" and the like: let the checked reader say
                array = np.loadtxt(file, delimiter=",", dtype=float, ndmin=2, comments=None, encoding="utf-8")
    except (ValueError, UnicodeDecodeError, UserWarning):
        return None
    if array.shape[0] == 0 or not np.isfinite(array).all() or (names and array.shape[1] != len(names)):
        return None
    return names, array


def _read_csv_checked(path):
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise PointsFileError(f"{path}: not a text file (UTF-8)") from None
    reader = csv.reader(io.StringIO(text))
    rows = [(reader.line_num, [cell.strip() for cell in row]) for row in reader]
    rows = [(line, row) for line, row in rows if any(row)]
    if not rows:
        raise PointsFileError(f"{path}: the file is empty")
    names = None
    first_line, first = rows[0]
    if all(re.fullmatch(_NAME, cell) and not _NOT_FINITE.fullmatch(cell) for cell in first):
        names = first
        repeated = [name for position, name in enumerate(names) if name in names[:position]]
        if repeated:
            raise PointsFileError(f"{path}: line {first_line}: {repeated[0]} appears twice in the header")
        rows = rows[1:]
    width = len(first)
    values = []
    for line, row in rows:
        if len(row) != width:
            raise PointsFileError(f"{path}: line {line} has {len(row)} value{'s' if len(row) != 1 else ''}, "
                                  f"line {first_line} has {width}")
        for column, cell in enumerate(row, 1):
            if _NOT_FINITE.fullmatch(cell):
                raise PointsFileError(f"{path}: line {line}, column {column}: {cell!r}; points must be finite")
            if not re.fullmatch(NUMBER, cell):
                raise PointsFileError(f"{path}: line {line}, column {column}: {cell!r} is not a number")
        numbers = [float(cell) for cell in row]
        too_large = [c for c, x in enumerate(numbers, 1) if not np.isfinite(x)]
        if too_large:
            raise PointsFileError(f"{path}: line {line}, column {too_large[0]}: {row[too_large[0] - 1]!r} is "
                                  "beyond the range of a float")
        values.append(numbers)
    return names, np.array(values, dtype=float).reshape(len(values), width)


def check_columns(path, array, variables):
    """A points file without a header must have one column per variable, in variable order."""
    if array.shape[1] != len(variables):
        raise PointsFileError(f"{path}: {array.shape[1]} column{'s' if array.shape[1] != 1 else ''}, but "
                              f"{len(variables)} variable{'s' if len(variables) != 1 else ''} "
                              f"({', '.join(variables)}): one column per variable in this order, or a CSV header "
                              "naming them")


def points_by_name(path, names, array, variables):
    """The columns of a points file with a header as a mapping name → column, in the
    order of ``variables``; a header name that is not a variable, or a variable with no
    column, is an error."""
    unknown = [name for name in names if name not in variables]
    if unknown:
        raise PointsFileError(f"{path}: the header names {unknown[0]}, which is not a variable "
                              f"({', '.join(variables)})")
    missing = [name for name in variables if name not in names]
    if missing:
        raise PointsFileError(f"{path}: the header has no column for the variable {missing[0]}")
    return {name: array[:, names.index(name)] for name in variables}


def jacobian_columns(graph):
    """The column names of a Jacobian file: ``d(y)/d(x1)`` …, outputs first, then variables."""
    from .render.style import output_name
    return [f"d({output_name(graph, k)})/d({name})" for k in range(len(graph.outputs)) for name in graph.variables]


def jacobian_rows(jacobian):
    """A Jacobian (m, n) at one point, or (m, n, *S) at many, as rows (points) × m·n columns."""
    jacobian = np.asarray(jacobian, dtype=float)
    m, n = jacobian.shape[:2]
    return jacobian.reshape(m * n, -1).T


def write_jacobian(path, graph, jacobian):
    """Write one row per point: ``.csv`` with a header (`jacobian_columns`) and every float
    in full precision (repr), or ``.npy`` (the same columns, no header)."""
    path = Path(path)
    rows = jacobian_rows(jacobian)
    try:
        if path.suffix.lower() == ".npy":
            with open(path, "wb") as file:
                np.save(file, rows)
            return
        lines = [",".join(jacobian_columns(graph))] + [",".join(repr(float(x)) for x in row) for row in rows]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    except OSError as error:
        raise PointsFileError(f"{path}: cannot write it ({error.strerror or error})") from None
