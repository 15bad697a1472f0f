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
import shutil
import warnings
from itertools import islice
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


CHUNK_ROWS = 1 << 16


def read_points(path):
    """The points in ``path``: (the header's names or None, a float64 array (N, columns))."""
    names, arrays = None, []
    for names, array, _ in iter_points(path, rows=None):
        arrays.append(array)
    return names, arrays[0] if len(arrays) == 1 else np.concatenate(arrays)


def iter_points(path, rows=CHUNK_ROWS):
    """The points in ``path`` a chunk at a time: (the header's names or None, a float64
    array of at most ``rows`` rows (all of them when None), the index of its first row).
    Only one chunk is in memory at a time: a CSV file is read ``rows`` lines at a time, an
    .npy file is memory-mapped. An error names the line (CSV) or element (.npy) in the
    whole file; an error in a later chunk is raised when that chunk is read.

        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "points.csv"
        >>> _ = path.write_text("x\\n1\\n2\\n3\\n")
        >>> [(a.ravel().tolist(), first) for _, a, first in iter_points(path, rows=2)]
        [([1.0, 2.0], 0), ([3.0], 2)]
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in POINT_FILE_SUFFIXES:
        raise PointsFileError(f"{path}: a points file ends in .csv or .npy")
    chunks = _csv_chunks(path, rows) if suffix == ".csv" else _npy_chunks(path, rows)
    names, total = None, 0
    try:
        for names, array in chunks:
            if array.shape[0]:
                yield names, array, total
                total += array.shape[0]
    except FileNotFoundError:
        raise PointsFileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise PointsFileError(f"{path}: is a folder, not a file") from None
    except OSError as error:
        raise PointsFileError(f"{path}: cannot read it ({error.strerror or error})") from None
    if total == 0:
        raise PointsFileError(f"{path}: no points in it" + (" (only a header)" if names else ""))


def _npy_chunks(path, rows):
    try:
        array = np.load(path, mmap_mode="r", allow_pickle=False)
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
    step = rows or max(array.shape[0], 1)
    # Rows in C order are read from the file a chunk at a time (the memory map's pages
    # would otherwise stay resident as they are read); in Fortran order, from the map.
    shape, dtype, offset = array.shape, array.dtype, getattr(array, "offset", None)
    with open(path, "rb") as file:
        def read(start, count):
            if mapped is not None:
                return np.array(mapped[start:start + count], dtype=float)
            file.seek(offset + start * shape[1] * dtype.itemsize)
            count = min(count, shape[0] - start) * shape[1]
            return np.fromfile(file, dtype=dtype, count=count).astype(float).reshape(-1, shape[1])
        mapped = None if array.flags.c_contiguous and offset is not None else array
        del array
        for start in range(0, max(shape[0], 1), step):
            chunk = read(start, step)
            bad = ~np.isfinite(chunk)
            if bad.any():
                row, column = np.argwhere(bad)[0]
                raise PointsFileError(f"{path}: element [{start + row}, {column}] is {float(chunk[row, column])}; "
                                      "points must be finite")
            yield None, chunk


def _is_header(cells):
    return all(re.fullmatch(_NAME, c) and not _NOT_FINITE.fullmatch(c) for c in cells)


def _csv_chunks(path, rows):
    """(names, array) for each run of ``rows`` lines: numpy's own parser for plain rows of
    numbers (about as fast as ``np.loadtxt``), else the checked reader, which reads the
    same or names the line and column of what is wrong."""
    with open(path, encoding="utf-8-sig") as file:
        try:
            line, names, first_line, width = 0, None, None, None
            for text in file:                       # the first row that is not blank: a header?
                line += 1
                cells = [cell.strip() for cell in next(csv.reader([text]), [])]
                if any(cells):
                    first_line, width = line, len(cells)
                    if text.startswith("\ufeff"):
                        raise PointsFileError(f"{path}: line {line}, column 1: {cells[0]!r} is not a number")
                    if _is_header(cells):
                        names = cells
                        repeated = [name for position, name in enumerate(names) if name in names[:position]]
                        if repeated:
                            raise PointsFileError(f"{path}: line {line}: {repeated[0]} appears twice in the header")
                    else:
                        yield None, _parse_rows(path, text, line - 1, first_line, width)
                    break
            else:
                raise PointsFileError(f"{path}: the file is empty")
            while True:
                lines = list(islice(file, rows)) if rows else file.readlines()
                if not lines:
                    yield names, np.empty((0, width))        # the header, when nothing follows it
                    return
                yield names, _parse_rows(path, "".join(lines), line, first_line, width)
                line += len(lines)
        except UnicodeDecodeError:
            raise PointsFileError(f"{path}: not a text file (UTF-8)") from None


def _parse_rows(path, text, offset, first_line, width):
    """The rows of numbers in ``text`` (lines ``offset + 1`` … of the file), ``width`` a row."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")          # "empty input file" and the like: let the checked reader say
            array = np.loadtxt(io.StringIO(text), delimiter=",", dtype=float, ndmin=2, comments=None)
        if (array.shape[0] == 0 or array.shape[1] == width) and np.isfinite(array).all():
            return array.reshape(-1, width or 0) if array.shape[0] == 0 else array
    except (ValueError, UserWarning):
        pass
    return _read_rows_checked(path, text, offset, first_line, width)


def _read_rows_checked(path, text, offset, first_line, width):
    reader = csv.reader(io.StringIO(text))
    values = []
    for row in reader:
        line = offset + reader.line_num
        row = [cell.strip() for cell in row]
        if not any(row):
            continue
        if width is None:
            width = len(row)
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
    return np.array(values, dtype=float).reshape(len(values), width or 0)


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
    with JacobianWriter(path, graph) as writer:
        writer.add(jacobian)


class JacobianWriter:
    """A Jacobian file written a chunk of points at a time (`write_jacobian`'s format):
    ``add`` appends rows; leaving the ``with`` block completes the file (an .npy's header
    needs the number of rows: its rows go to a side file until then), or, on an error or
    `discard`, removes it."""

    def __init__(self, path, graph):
        self.path, self.graph, self.rows, self.width = Path(path), graph, 0, None
        self.npy = self.path.suffix.lower() == ".npy"
        self.file = self._open(self.path.with_name(self.path.name + ".rows") if self.npy else self.path)
        if not self.npy:
            self._write(",".join(jacobian_columns(graph)) + "\n")

    def _open(self, path):
        try:
            return open(path, "wb" if self.npy else "w", encoding=None if self.npy else "utf-8")
        except OSError as error:
            raise PointsFileError(f"{self.path}: cannot write it ({error.strerror or error})") from None

    def _write(self, data):
        try:
            self.file.write(data)
        except OSError as error:
            raise PointsFileError(f"{self.path}: cannot write it ({error.strerror or error})") from None

    def add(self, jacobian):
        """Append the rows of a Jacobian (m, n) at one point or (m, n, *S) at many."""
        rows = jacobian_rows(jacobian)
        self.rows += rows.shape[0]
        self.width = rows.shape[1]
        self._write(np.ascontiguousarray(rows, dtype="<f8").tobytes() if self.npy else
                    "".join(",".join(repr(float(x)) for x in row) + "\n" for row in rows))

    def discard(self):
        """Remove what was written."""
        self.file.close()
        Path(self.file.name).unlink(missing_ok=True)

    def __enter__(self):
        return self

    def __exit__(self, kind, error, trace):
        if kind is not None:
            self.discard()
            return
        self.file.close()
        if not self.npy:
            return
        side = Path(self.file.name)
        try:
            with open(self.path, "wb") as out, open(side, "rb") as rows:
                header = {"descr": "<f8", "fortran_order": False, "shape": (self.rows, self.width or 0)}
                np.lib.format.write_array_header_1_0(out, header)
                shutil.copyfileobj(rows, out, 1 << 20)
        except OSError as error:
            raise PointsFileError(f"{self.path}: cannot write it ({error.strerror or error})") from None
        finally:
            side.unlink(missing_ok=True)
