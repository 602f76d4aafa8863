"""``unseen_category_rate``: the share of a categorical feature's rows whose category the
training data never had.

Why a check of its own: a new category on ~1% of rows (a new downpayment bucket, a new
country code) is something the model has never seen, so its output there is a guess, yet
it hides from the other checks. ``schema_validity`` at 0.99 tolerates 1% of bad rows, the
contract's ``allowed_values`` is often not declared (or is edited together with the data),
and the chi2 drift rule needs a Jensen-Shannon distance above 0.1, which 1% of new mass
never reaches. The baseline profile already holds every training category, so the check
is exact and cheap: one ``is_in`` per column against that set, all columns in one pass.

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

from collections.abc import Sequence
from typing import Final

import polars as pl

from checks.contract import Contract
from checks.profile import BaselineProfile
from checks.sli import SliRow, slo_row
from checks.slo_in_force import slos_in_force

__all__ = ["SLI", "UNSEEN_EXAMPLES", "unseen_category_rows"]

SLI: Final = "unseen_category_rate"
#: Unseen values named (with their row counts) in a row's ``detail``, most frequent first.
UNSEEN_EXAMPLES: Final = 5

Frame = pl.DataFrame | pl.LazyFrame


def _unseen(name: str, known: pl.Series) -> pl.Expr:
    """True on a row whose (non-null) category is not among ``known``."""
    value = pl.col(name).cast(pl.String)
    return value.is_not_null() & ~value.is_in(known.implode())


def _examples(current: Frame, name: str, known: pl.Series, n_values: int) -> str:
    """``2 categories the baseline never had: 'x' 52 rows, 'y' 1 row``: the most frequent
    unseen values of one column (:data:`UNSEEN_EXAMPLES` at most)."""
    value = pl.col(name).cast(pl.String)
    top = (
        current.lazy()
        .select(value.alias("value"))
        .filter(_unseen("value", known))
        .group_by("value")
        .agg(pl.len().alias("rows"))
        .sort(["rows", "value"], descending=[True, False])
        .head(UNSEEN_EXAMPLES)
        .collect()
    )
    named = ", ".join(f"{v!r} {r} row{'s' if r != 1 else ''}" for v, r in top.iter_rows())
    more = f" and {n_values - top.height} more" if n_values > top.height else ""
    noun = "category" if n_values == 1 else "categories"
    return f"{n_values} {noun} the baseline never had: {named}{more}"


def unseen_category_rows(
    contract: Contract, profile: BaselineProfile, current: Frame, features: Sequence[str]
) -> list[SliRow]:
    """One ``unseen_category_rate`` row per feature of ``features`` that the profile holds
    as categorical (the caller leaves out columns that are missing or of the wrong type:
    those are ``schema_valid``'s breach).

    A feature with no non-null value today gets an ``insufficient_data`` row (not judged;
    ``null_rate`` reports it).
    """
    names = [n for n in features if n in profile.categorical]
    if not names:
        return []
    known = {n: pl.Series(profile.categorical[n].categories, dtype=pl.String) for n in names}
    counts = (
        current.lazy()
        .select(
            *(pl.col(n).is_not_null().sum().alias(f"{i}:n") for i, n in enumerate(names)),
            *(_unseen(n, known[n]).sum().alias(f"{i}:unseen") for i, n in enumerate(names)),
            *(
                pl.col(n).cast(pl.String).filter(_unseen(n, known[n])).n_unique().alias(f"{i}:k")
                for i, n in enumerate(names)
            ),
        )
        .collect()
        .row(0, named=True)
    )
    spec = slos_in_force(contract).model.get(SLI)
    objective = spec.objective if spec is not None else None
    rows: list[SliRow] = []
    for i, name in enumerate(names):
        n, unseen, n_values = int(counts[f"{i}:n"]), int(counts[f"{i}:unseen"]), counts[f"{i}:k"]
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
        detail = _examples(current, name, known[name], int(n_values)) if unseen else None
        rows.append(
            slo_row(
                contract,
                SLI,
                "schema",
                unseen / n,
                n,
                feature=name,
                objective=objective,
                detail=detail,
            )
        )
    return rows
