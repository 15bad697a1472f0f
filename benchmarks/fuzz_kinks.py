"""The long run of the one-sided-derivative property (tests/test_nonsmooth.py runs a bounded one).

Run:  prlimit --as=4000000000 python benchmarks/fuzz_kinks.py [examples] [max depth]

Random expressions with abs, relu, max and min placed exactly on their kinks at the point,
among smooth operations (see tests/strategies.py, `kinked_expressions_and_points`): the
one-sided derivatives adcompare computes must equal one-sided difference quotients of f
in mpmath at high precision, and the verdict's state must follow from them. Prints how
many examples were tried and how they came out; a failure prints the shrunk counterexample.
"""

import collections
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from strategies import check_kinked, kinked_expressions_and_points  # noqa: E402


def main(examples=10_000, max_depth=3):
    outcomes = collections.Counter()

    @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(kinked_expressions_and_points(max_depth=max_depth))
    def property_holds(case):
        outcomes[check_kinked(*case)] += 1

    property_holds()
    print(f"{sum(outcomes.values())} examples checked")
    for outcome, count in outcomes.most_common():
        print(f"  {outcome:52} {count:7d}")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))
