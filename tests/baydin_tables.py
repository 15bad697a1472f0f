"""Baydin et al. (JMLR 2018) Tables 2 and 3 for f = ln(x1) + x1·x2 − sin(x2) at (2, 5),
transcribed by hand from the paper (shared/reference/baydin-tables.md) into adcompare's
columns: name | = definition | [= local] | = with values | = value. Every format's golden
test reads these cells.

Names are as the paper typesets them (x₁, ẋ₁, x̄₁: the input x1 with subscript 1).
Where the paper writes 1/2 we write "1 / 2"; where it writes "10.693 + 0.959" (silently
substituting −sin 5 = +0.959) we require the unambiguous "10.693 − (−0.959)". Values
the paper leaves unevaluated (ln 2, 2 × 5, sin 5) we require rounded to 3 decimals.
"""

BAYDIN = "ln(x1)+x1*x2-sin(x2)"

TABLE_2_PRIMAL = [
    ["v₋₁", "= x₁", "= 2"],
    ["v₀", "= x₂", "= 5"],
    "rule",
    ["v₁", "= ln v₋₁", "= ln 2", "= 0.693"],
    ["v₂", "= v₋₁ × v₀", "= 2 × 5", "= 10"],
    ["v₃", "= sin v₀", "= sin 5", "= −0.959"],
    ["v₄", "= v₁ + v₂", "= 0.693 + 10", "= 10.693"],
    ["v₅", "= v₄ − v₃", "= 10.693 − (−0.959)", "= 11.652"],
    "rule",
    ["y", "= v₅", "= 11.652"],
]

TABLE_2_TANGENT_X1 = [
    ["v̇₋₁", "= ẋ₁", "= 1"],
    ["v̇₀", "= ẋ₂", "= 0"],
    "rule",
    ["v̇₁", "= v̇₋₁ / v₋₁", "= 1 / 2", "= 0.5"],
    ["v̇₂", "= v̇₋₁ × v₀ + v̇₀ × v₋₁", "= 1 × 5 + 0 × 2", "= 5"],
    ["v̇₃", "= v̇₀ × cos v₀", "= 0 × cos 5", "= 0"],
    ["v̇₄", "= v̇₁ + v̇₂", "= 0.5 + 5", "= 5.5"],
    ["v̇₅", "= v̇₄ − v̇₃", "= 5.5 − 0", "= 5.5"],
    "rule",
    ["ẏ", "= v̇₅", "= 5.5"],
]

# Table 3 as printed, top to bottom (executed bottom to top). The paper's middle column is
# our "local" column; we add the values substituted (hand-computed: v̄₀ was −cos 5 ≈ −0.284
# before the accumulation, v̄₋₁ was 5 before its accumulation).
TABLE_3_ADJOINT = [
    ["x̄₁", "= v̄₋₁", "= 5.5"],
    ["x̄₂", "= v̄₀", "= 1.716"],
    "rule",
    ["v̄₋₁", "= v̄₋₁ + v̄₁ ∂v₁/∂v₋₁", "= v̄₋₁ + v̄₁ / v₋₁", "= 5 + 1 / 2", "= 5.5"],
    ["v̄₀", "= v̄₀ + v̄₂ ∂v₂/∂v₀", "= v̄₀ + v̄₂ × v₋₁", "= (−0.284) + 1 × 2", "= 1.716"],
    ["v̄₋₁", "= v̄₂ ∂v₂/∂v₋₁", "= v̄₂ × v₀", "= 1 × 5", "= 5"],
    ["v̄₀", "= v̄₃ ∂v₃/∂v₀", "= v̄₃ × cos v₀", "= (−1) × cos 5", "= −0.284"],
    ["v̄₂", "= v̄₄ ∂v₄/∂v₂", "= v̄₄ × 1", "= 1 × 1", "= 1"],
    ["v̄₁", "= v̄₄ ∂v₄/∂v₁", "= v̄₄ × 1", "= 1 × 1", "= 1"],
    ["v̄₃", "= v̄₅ ∂v₅/∂v₃", "= v̄₅ × (−1)", "= 1 × (−1)", "= −1"],
    ["v̄₄", "= v̄₅ ∂v₅/∂v₄", "= v̄₅ × 1", "= 1 × 1", "= 1"],
    "rule",
    ["v̄₅", "= ȳ", "= 1"],
]
