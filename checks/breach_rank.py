"""How bad is a breach? A ranking of breached SLI rows that never compares across metrics.

Summaries name the *worst* breach of a partition. A row's value is only comparable with
its own objective, in its own direction (``comparator``), so each row gets a unitless
miss, and rows whose value is not the quantity the objective bounds are not ranked by
value at all:

- ``relative_miss``: how far past its own objective a row is, in units of the room the
  objective leaves before the ideal value (the error the SLO allows). The ideal is the
  catalogue bound in the good direction (1 for a fraction judged ``>=``, 0 for a rate or
  a duration judged ``<=``); an SLI without one uses ``|objective|``. So an accuracy of
  0.90 against ``>= 0.94`` (error 0.10 where 0.06 is allowed) is a miss of 0.67, a drifted
  feature share of 0.158 against ``<= 0.1`` is 0.58, a staleness of 280,829 s against
  ``<= 129,600`` is 1.17; an objective at the ideal itself (``ingest_ok >= 1``, a rate
  ``<= 0``) allows no error, so any breach of it is an infinite miss.
- Per-feature drift test rows (``psi``, ``ks``, ``chi2``... in the ``drift`` and
  ``prediction_drift`` categories) breach by the drift rule (significance and effect),
  and a chi2 row's value is its raw statistic while its objective is the JS threshold:
  they get no miss and rank after every row that has one. The SLO they feed
  (``drifted_feature_share``) is an ordinary row and is ranked by its miss.

Order (:func:`rank_breaches`): blocking first, then rows with a miss (largest first),
then breached rows whose miss cannot be measured (no value, objective or comparator),
then drift test rows.
"""

from __future__ import annotations

from typing import Final

import polars as pl

from checks.contract import SLO_CATALOG

__all__ = ["DRIFT_TEST_CATEGORIES", "rank_breaches", "relative_miss"]

DRIFT_TEST_CATEGORIES: Final = ("drift", "prediction_drift")

#: rank groups, lowest first: measured miss, breached but unmeasurable, drift test row.
_MEASURED, _UNMEASURED, _DRIFT_TEST = 0, 1, 2


def _is_drift_test() -> pl.Expr:
    return pl.col("category").is_in(DRIFT_TEST_CATEGORIES) & pl.col("method").is_not_null()


def _ideal_values() -> dict[str, float]:
    """The best value each catalogued SLI can take: its bound in the good direction."""
    ideals: dict[str, float] = {}
    for name, entry in SLO_CATALOG.items():
        low, high = entry.bounds
        best = high if entry.comparator in (">=", ">") else low
        if best is not None:
            ideals[name] = float(best)
    return ideals


def relative_miss() -> pl.Expr:
    """The unitless miss of each row against its own objective (see the module doc);
    null for drift test rows and rows without value, objective or comparator."""
    value, objective = pl.col("value"), pl.col("objective")
    shortfall = (
        pl.when(pl.col("comparator").is_in(["<=", "<"]))
        .then(value - objective)
        .when(pl.col("comparator").is_in([">=", ">"]))
        .then(objective - value)
        .otherwise(None)
        .clip(lower_bound=0.0)
    )
    ideal = pl.col("sli").replace_strict(_ideal_values(), default=None, return_dtype=pl.Float64)
    slack = pl.when(ideal.is_not_null()).then((ideal - objective).abs()).otherwise(objective.abs())
    miss = (
        pl.when(slack > 0)
        .then(shortfall / slack)
        .when(shortfall > 0)
        .then(pl.lit(float("inf")))
        .otherwise(pl.lit(0.0))
    )
    measurable = (
        ~_is_drift_test() & value.is_finite() & objective.is_finite() & shortfall.is_not_null()
    )
    return pl.when(measurable).then(miss).otherwise(None)


def rank_breaches(rows: pl.DataFrame) -> pl.DataFrame:
    """The breached rows (``ok`` false) of ``rows``, worst first, with a ``miss`` column.

    ``rows`` needs category, method, value, objective, comparator, ok and blocking.
    Ties keep the input order, so callers sort by their own keys first for stability.
    """
    breached = rows.filter(pl.col("ok") == pl.lit(value=False)).with_columns(miss=relative_miss())
    group = (
        pl.when(pl.col("miss").is_not_null())
        .then(pl.lit(_MEASURED))
        .when(_is_drift_test())
        .then(pl.lit(_DRIFT_TEST))
        .otherwise(pl.lit(_UNMEASURED))
    )
    return (
        breached.with_columns(_rank_group=group, _blocking=pl.col("blocking").fill_null(False))
        .sort(
            ["_blocking", "_rank_group", "miss"],
            descending=[True, False, True],
            nulls_last=True,
            maintain_order=True,
        )
        .drop("_rank_group", "_blocking")
    )
