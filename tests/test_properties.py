"""Property: on random traces over the whole operation table, the four back ends agree, or
their disagreement is classified (kink, domain edge, overflow, finite-difference error) and
the classification is right. A bounded profile here; benchmarks/fuzz_agreement.py is the
long run."""

from hypothesis import HealthCheck, given, settings

from strategies import check_agreement, graphs_and_points


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(graphs_and_points())
def test_back_ends_agree_or_explain_why(case):
    graph, point = case
    check_agreement(graph, point)
