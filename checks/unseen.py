"""``unseen_category_rate``: the share of a categorical feature's rows whose category the
training data never had.

Why a check of its own: a new category on ~1% of rows (a new downpayment bucket, a new
country code) is something the model has never seen, so its output there is a guess, yet
it hides from the other checks. ``schema_validity`` at 0.99 tolerates 1% of bad rows, the
contract's ``allowed_values`` is often not declared (or is edited together with the data),
and the chi2 drift rule needs a Jensen-Shannon distance above 0.1, which 1% of new mass
never reaches. The baseline profile already holds every training category, so the check
is exact and cheap: the day's category counts per column (which the sketch engine already
has) against that set.

The row (category ``schema``, track ``model``): ``value`` = unseen rows / non-null rows
(a fraction), ``n_rows`` = non-null rows of the day, comparator ``<=``. Its objective is
the contract's ``slos.model.unseen_category_rate``, else the built-in SLO of
:mod:`checks.slo_templates` (objective 0: a new category is flagged on its first day).
Categories compare as strings, exactly as the profile counted them (a Boolean feature's
categories are ``"true"``/``"false"``). ``detail`` names the most frequent unseen values,
verbatim (quoted with ``repr``, so a trailing space or a newline stays visible), with
their row counts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

import polars as pl

from checks.contract import Contract
from checks.profile import BaselineProfile, categorical_counts
from checks.sli import SliRow, slo_row
from checks.slo_in_force import slos_in_force

__all__ = ["SLI", "UNSEEN_EXAMPLES", "unseen_category_rows", "unseen_rows_from_counts"]

SLI: Final = "unseen_category_rate"
#: Unseen values named (with their row counts) in a row's ``detail``, most frequent first.
UNSEEN_EXAMPLES: Final = 5

Frame = pl.DataFrame | pl.LazyFrame


def _examples(unseen: pl.DataFrame) -> str:
    """``2 categories the baseline never had: 'x' 52 rows, 'y' 1 row``: the most frequent
    unseen values of one column (:data:`UNSEEN_EXAMPLES` at most), from their counts."""
    top = unseen.sort(["count", "category"], descending=[True, False]).head(UNSEEN_EXAMPLES)
    named = ", ".join(f"{v!r} {r} row{'s' if r != 1 else ''}" for v, r in top.iter_rows())
    more = f" and {unseen.height - top.height} more" if unseen.height > top.height else ""
    noun = "category" if unseen.height == 1 else "categories"
    return f"{unseen.height} {noun} the baseline never had: {named}{more}"


def unseen_category_rows(
    contract: Contract, profile: BaselineProfile, current: Frame, features: Sequence[str]
) -> list[SliRow]:
    """One ``unseen_category_rate`` row per feature of ``features`` that the profile holds
    as categorical (the caller leaves out columns that are missing or of the wrong type:
    those are ``schema_valid``'s breach), from the day's category counts (one streaming
    group-by per column: memory grows with the categories, not the rows).

    A feature with no non-null value today gets an ``insufficient_data`` row (not judged;
    ``null_rate`` reports it).
    """
    names = [n for n in features if n in profile.categorical]
    counts = {name: categorical_counts(current, name) for name in names}
    return unseen_rows_from_counts(contract, profile, counts)


def unseen_rows_from_counts(
    contract: Contract, profile: BaselineProfile, counts: Mapping[str, pl.DataFrame]
) -> list[SliRow]:
    """:func:`unseen_category_rows` from category counts already at hand (``category``:
    String, ``count``: Int64 per feature, nulls left out), e.g. a
    :class:`checks.profile.CurrentSketch`'s merged over a day's row groups."""
    spec = slos_in_force(contract).model.get(SLI)
    objective = spec.objective if spec is not None else None
    rows: list[SliRow] = []
    for name, frame in counts.items():
        if name not in profile.categorical:
            continue
        known = pl.Series(profile.categorical[name].categories, dtype=pl.String)
        n = int(frame.get_column("count").sum())
        if n == 0:
            rows.append(
                slo_row(
                    contract,
                    SLI,
                    "schema",
                    None,
                    0,
                    feature=name,
                    objective=objective,
                    status="insufficient_data",
                    detail="no non-null value in the snapshot",
                )
            )
            continue
        unseen = frame.filter(~pl.col("category").is_in(known.implode()))
        rows.append(
            slo_row(
                contract,
                SLI,
                "schema",
                int(unseen.get_column("count").sum()) / n,
                n,
                feature=name,
                objective=objective,
                detail=_examples(unseen) if unseen.height else None,
            )
        )
    return rows
