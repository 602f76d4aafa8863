"""Which versions are judged as a one-shot candidate: only those with candidate runs alone."""

from __future__ import annotations

import polars as pl

from checks.candidate_verdict import is_candidate_only


def runs(*kinds: str, version: str = "2.0") -> pl.DataFrame:
    return pl.DataFrame(
        {
            "model": ["m"] * len(kinds),
            "model_version": [version] * len(kinds),
            "kind": list(kinds),
        },
        schema={"model": pl.String, "model_version": pl.String, "kind": pl.String},
    )


def test_only_a_version_whose_every_run_is_a_candidate_run_is_a_candidate() -> None:
    assert is_candidate_only(runs("candidate"), "m", "2.0")
    assert is_candidate_only(runs("candidate", "candidate"), "m", "2.0")
    # Once it serves (scheduled runs), its budgets over the window apply again.
    assert not is_candidate_only(runs("candidate", "scheduled"), "m", "2.0")
    assert not is_candidate_only(runs("candidate", version="1.0"), "m", "2.0")
    assert not is_candidate_only(runs(), "m", "2.0")
    assert not is_candidate_only(runs("candidate").drop("kind"), "m", "2.0")
