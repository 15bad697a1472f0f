"""Points processed a chunk at a time (issue 15, "Points files"): the combined report is
the whole-array report, the Jacobian file holds every row, and memory does not grow with
the number of points."""

import tracemalloc

import numpy as np
import pytest

from adcompare import trace
from adcompare.cli import main
from adcompare.parse import parse
from adcompare.report import trace_point_chunks

EXPRESSION = "ln(x)+abs(y-1)*sqrt(x)"


def _points(count, seed=0):
    rng = np.random.default_rng(seed)
    x, y = rng.uniform(0.0, 4.0, count), rng.uniform(-1.0, 3.0, count)
    # a kink (y = 1), f undefined (x < 0), ln's derivative beyond the floats (x = 5e-324)
    x[[3, 17, 40]] = [1.0, -2.0, 5e-324]
    y[[3, 25]] = 1.0
    return x, y


@pytest.mark.parametrize("size", [7, 16, 1000])
@pytest.mark.parametrize("output_format", ["text", "json"])
def test_chunks_render_as_the_whole_array(size, output_format):
    x, y = _points(50)
    whole = trace(EXPRESSION, at={"x": x, "y": y})
    chunks = [(x[i:i + size], y[i:i + size]) for i in range(0, 50, size)]
    chunked = trace_point_chunks(parse(EXPRESSION, ["x", "y"]), chunks)
    assert chunked.render(output_format) == whole.render(output_format)
    assert chunked.comparison.state_counts() == whole.comparison.state_counts()
    assert whole.comparison.state_counts()["not-differentiable"] >= 1     # the file tests what it means to
    assert whole.comparison.state_counts()["inconclusive"] >= 2


def test_cli_in_chunks_writes_every_row(tmp_path, monkeypatch, capsys):
    x, y = _points(50)
    path = tmp_path / "points.csv"
    path.write_text("y,x\n" + "".join(f"{float(b)!r},{float(a)!r}\n" for a, b in zip(x, y)))
    outputs = {}
    for rows in (None, 8):
        if rows:
            monkeypatch.setattr("adcompare.points_file.CHUNK_ROWS", rows)
            monkeypatch.setattr("adcompare.cli.iter_points.__defaults__", (rows,))
        for suffix in ("csv", "npy"):
            out = tmp_path / f"j{rows}.{suffix}"
            code = main(["trace", EXPRESSION, "--at", str(path), "--jacobian-out", str(out)])
            outputs[rows, suffix] = (code, capsys.readouterr().out,
                                     out.read_bytes() if suffix == "csv" else np.load(out))
    for suffix in ("csv", "npy"):
        (code, text, jacobian), (code8, text8, jacobian8) = outputs[None, suffix], outputs[8, suffix]
        assert code == code8 and text == text8
        if suffix == "csv":
            assert jacobian == jacobian8 and len(jacobian.splitlines()) == 51
        else:
            assert jacobian.shape == (50, 2) and np.array_equal(jacobian, jacobian8, equal_nan=True)
            # reverse mode's ∂f/∂x = 1/x + |y-1|/(2√x), by hand, at a point of no trouble
            assert jacobian[0, 0] == pytest.approx(1 / x[0] + abs(y[0] - 1) / (2 * np.sqrt(x[0])), rel=1e-14)


SMOOTH = "ln(x)+x*y-sin(y)"       # no kink, no edge: every point takes the vectorised path


def _peak(graph, count, size):
    rng = np.random.default_rng(count)
    x, y = rng.uniform(1.0, 4.0, count), rng.uniform(-3.0, 3.0, count)

    def chunks():       # made a chunk at a time, as a file is read
        for i in range(0, count, size):
            yield x[i:i + size].copy(), y[i:i + size].copy()
    tracemalloc.start()
    try:
        trace_point_chunks(graph, chunks())
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_does_not_grow_with_the_points():
    """Peak traced memory for 4N points in chunks of N/4 is that of N points in chunks of
    N/4 (within 10 %), while a chunk 4 times larger takes more than twice as much: the bound is
    one chunk's work plus a constant, not the number of points."""
    n = 16000
    graph = parse(SMOOTH, ["x", "y"])
    _peak(graph, 4 * n, n // 4)           # compiled sweeps and sympy's caches made before measuring
    small, large, whole = _peak(graph, n, n // 4), _peak(graph, 4 * n, n // 4), _peak(graph, n, n)
    assert large <= 1.1 * small, (small, large)
    assert whole >= 2 * large, (large, whole)


def test_dask_arrays_are_traced_block_by_block():
    # Optional extra: without dask installed this test is skipped, and says so.
    da = pytest.importorskip("dask.array", reason="the optional extra adcompare[dask] is not installed")
    import dask
    x, y = _points(50)
    whole = trace(EXPRESSION, at={"x": x, "y": y})
    with dask.config.set(scheduler="synchronous"):            # a local scheduler, no cluster
        lazy = trace(EXPRESSION, at={"x": da.from_array(x, chunks=9), "y": da.from_array(y, chunks=20)})
    assert lazy.render("text") == whole.render("text") and lazy.render("json") == whole.render("json")
    with dask.config.set(scheduler="synchronous"), pytest.raises(Exception, match=r"y at point \[12\] must be finite"):
        y[12] = np.inf
        trace(EXPRESSION, at={"x": da.from_array(x, chunks=9), "y": da.from_array(y, chunks=9)})


def test_an_error_in_a_later_chunk_names_its_line_in_the_file(tmp_path):
    from adcompare.points_file import PointsFileError, iter_points
    rows = [f"{i}.5,{i}" for i in range(12)]
    rows[8] = "8.5,eight"                       # line 10 of the file: the header is line 1
    csv_path = tmp_path / "points.csv"
    csv_path.write_text("x,y\n" + "\n".join(rows) + "\n")
    with pytest.raises(PointsFileError, match=r"line 10, column 2: 'eight' is not a number"):
        list(iter_points(csv_path, rows=4))
    array = np.arange(24.0).reshape(12, 2)
    array[9, 1] = np.nan
    npy_path = tmp_path / "points.npy"
    np.save(npy_path, array)
    with pytest.raises(PointsFileError, match=r"element \[9, 1\] is nan"):
        list(iter_points(npy_path, rows=4))
    np.save(npy_path, np.arange(24.0).reshape(12, 2))
    assert [(first, a.shape) for _, a, first in iter_points(npy_path, rows=5)] == [(0, (5, 2)), (5, (5, 2)),
                                                                                  (10, (2, 2))]
