"""Forward and reverse mode over arrays of points: the compiled sweeps (`adcompare.segments`)
run once over all points, and a point where a value or a derivative is not finite is
marked, never raised on, so that one bad point among 10⁹ does not stop the others.

Forward mode is one sweep carrying all n tangents (the primal computed once); reverse mode
is one primal pass and one adjoint sweep per output. Both use the operation table's local
partials, as the interpreted sweeps do. At the marked points the Jacobian holds NaN, and
`failure_reasons` says, for those points only, which node failed and how (one interpreted
pass over them: the extra work is bounded by their number).

    >>> import numpy as np
    >>> from adcompare.parse import parse
    >>> result = run_points("reverse", parse("ln(x)"), (np.array([1.0, 5e-324, -1.0]),))
    >>> result.jacobian[0, 0].tolist(), result.details["failed"].tolist()
    ([1.0, nan, nan], [False, True, True])
"""

import weakref

import numpy as np

from ..graph import Const, argument_values, quiet
from ..ops import OPERATIONS
from . import Cost, Result

_COMPILED = {}


def compiled(graph):
    """The CompiledGraph of ``graph``, made once per Graph object (kept while it lives)."""
    key = id(graph)
    entry = _COMPILED.get(key)
    if entry is None or entry[0]() is not graph:
        from ..codegen import compile_graph
        def forget(ref, key=key, cache=_COMPILED):
            if cache.get(key, (None,))[0] is ref:
                del cache[key]
        entry = _COMPILED[key] = (weakref.ref(graph, forget), compile_graph(graph))
    return entry[1]


def sweep_cost(method, graph):
    """What the interpreted sweep of ``method`` counts at one point (see `Cost`): the same
    for one call over any number of points."""
    n, m = graph.n_inputs, len(graph.outputs)
    edges = [sum(not isinstance(a, Const) for a in node.args) for node in graph.nodes]
    if method == "forward":
        return Cost(max(n, 1), n, max(n, 1) * sum(1 + 2 * e for e in edges))
    operations = len(graph.nodes) + sum(edges)
    for output in graph.outputs:
        reached = {output}
        for slot in range(graph.size - 1, n - 1, -1):
            if slot in reached:
                for arg in graph.node(slot).args:
                    if not isinstance(arg, Const):
                        operations += 2 if arg in reached else 1
                        reached.add(arg)
    return Cost(1, m, operations)


def run_points(method, graph, point):
    """``method`` ("forward" or "reverse") over arrays of points of one shape S: a Result
    whose Jacobian has shape (m, n, *S), NaN at the points in ``details["failed"]`` (a mask
    of shape S) where a value was outside a domain or a value or derivative not finite."""
    sweeps = compiled(graph)
    m, n = len(graph.outputs), graph.n_inputs
    shape = np.broadcast_shapes(*map(np.shape, point))
    jacobian = np.empty((m, n) + shape)
    failed = np.zeros(shape, dtype=bool)
    if method == "forward":
        outputs, rows, ok = sweeps.sweep_points("forward", *point)
        for k in range(m):
            for j in range(n):
                jacobian[k, j] = rows[k][j]
        failed |= ~ok
    else:
        outputs = []
        for k in range(m):
            (value,), gradient, ok = sweeps.sweep_points("reverse", *point, output=k)
            outputs.append(value)
            for j in range(n):
                jacobian[k, j] = gradient[j]
            failed |= ~ok
        outputs = tuple(outputs)
    if failed.any():
        jacobian[(slice(None), slice(None)) + np.nonzero(failed)] = np.nan
    details = {"rounding_bound": np.zeros_like(jacobian), "failed": failed}
    return Result(method, tuple(outputs), jacobian, sweep_cost(method, graph), details=details)


def failure_reasons(graph, point, failed, limit=None):
    """Why each marked point failed, from one interpreted pass over those points only:
    a list of (reason, number of points, the first such point's index), most frequent
    first. A reason names the node: ``v₁ = ln v₋₁: ln has no finite derivative`` …"""
    from ..render.text import describe_slot
    where = np.nonzero(failed)
    if not len(where[0]):
        return []
    indices = np.stack(where, axis=-1)
    if limit is not None:
        indices = indices[:limit]
        where = tuple(indices.T)
    values = [np.asarray(np.broadcast_to(x, failed.shape))[where] for x in point]
    count = len(values[0]) if values else 0
    reason = np.full(count, -1)
    texts = []
    live = graph.live
    with quiet():
        for slot in range(graph.n_inputs, graph.size):
            node = graph.node(slot)
            op = OPERATIONS[node.op]
            args = argument_values(node.args, values)
            value = op.evaluate(*args)
            values.append(value)
            if not live[slot]:
                continue
            checks = []
            if op.domain is not None:
                checks.append((np.asarray(op.domain(*args), dtype=bool),
                               f"{op.name} is outside its domain ({op.domain_text} needed)"))
            checks.append((np.isfinite(value), f"{op.name} is not finite (overflow)"))
            for position, (arg, partial) in enumerate(zip(node.args, op.partials)):
                if not isinstance(arg, Const):
                    local = np.broadcast_to(partial.value(*args, value), (count,))
                    checks.append((np.isfinite(local), f"{op.name} has no finite derivative here "
                                                      "(an infinite local partial in the chain rule)"))
            for good, text in checks:
                new = (reason < 0) & ~np.broadcast_to(good, (count,))
                if new.any():
                    texts.append(f"{describe_slot(graph, slot)}: {text}")
                    reason[new] = len(texts) - 1
    texts.append("the accumulated derivative overflowed (chain-rule terms beyond the float range)")
    reason[reason < 0] = len(texts) - 1
    out = []
    for code in np.unique(reason):
        chosen = np.flatnonzero(reason == code)
        out.append((texts[code], len(chosen), tuple(int(i) for i in indices[chosen[0]])))
    return sorted(out, key=lambda r: -r[1])


def run_dask(method, graph, point):
    """``method`` ("forward" or "reverse") over Dask arrays of points, block by block: the
    same compiled numpy sweeps (`run_points`) on each block, lazily. Returns (Jacobian, a
    dask array of shape (m, n, *S), NaN where ``failed``; failed, a dask mask of shape S).
    Nothing is computed until you ask (``dask.compute(jacobian, failed.sum())``), so 10⁹
    points are a Dask job whose memory is a few blocks. Needs the optional extra
    ``adcompare[dask]``.

    For example (with dask installed; tests/test_points.py runs it)::

        x = dask.array.from_array(np.array([1.0, 0.0, 4.0]), chunks=2)
        jacobian, failed = run_dask("reverse", parse("sqrt(x)"), (x,))
        jacobian.compute()[0, 0]   # [0.5, nan, 0.25]: √ has no finite derivative at 0
        failed.sum().compute()     # 1
    """
    import dask.array as da
    arrays = da.broadcast_arrays(*[da.asarray(x, dtype=float) for x in point])
    m, n = len(graph.outputs), graph.n_inputs
    compiled(graph)          # compiled once, here, not once per block

    def block(*values):
        result = run_points(method, graph, values)
        return np.concatenate([result.jacobian.reshape((m * n,) + result.details["failed"].shape),
                               result.details["failed"][None].astype(float)])
    ndim = arrays[0].ndim
    stacked = da.map_blocks(block, *arrays, dtype=float, new_axis=0,
                            chunks=((m * n + 1,),) + arrays[0].chunks)
    jacobian = stacked[:m * n].reshape((m, n) + arrays[0].shape) if ndim else stacked[:m * n]
    return jacobian, stacked[m * n] == 1.0
