"""Lay out a third model from a published data set: Fair's (1978) extramarital affairs survey.

``python examples/public_model/generate.py [--out DIR]`` writes ``DIR/fair_affairs/``
(default: next to this file): a training parquet, reference predictions and 14 daily
feature / prediction / label snapshots (2026-11-01 .. 2026-11-14) of a real scikit-learn
``LogisticRegression`` trained on the survey. The data set ships inside statsmodels
(``statsmodels.datasets.fair``, 6,366 respondents); nothing is downloaded.

How the rows are used (README.md next to this file has the full story):

- the 6,366 rows are shuffled once with a fixed seed, then split: 3,400 training rows,
  1,000 reference rows (the model's predictions on them are the prediction-drift
  baseline) and 1,966 held-out rows, the population the days are drawn from;
- each day draws ``ROWS_PER_DAY`` distinct held-out rows (without replacement within the
  day, independently across days: a resample of the same population, so the days do not
  drift), stamps them with times inside the day and gives them integer request ids;
- from ``DROP_FROM`` on, the label of ``FLIPPED_PER_DAY`` of the day's rows (drawn with
  the day's seed) is flipped: the answers no longer follow the relationship the model
  learned, so its accuracy falls from ~0.73 to ~0.59 while features and predictions stay
  as they were.

Ids are ``Int64`` in every file (as real tables have them); all timestamps are
``Datetime(us, UTC)`` with millisecond precision. The output is byte-for-byte
reproducible for the pinned polars and scikit-learn (``constraints.txt``): every draw
comes from ``numpy.random.default_rng`` seeded by (``SEED``, day, purpose), scores are
rounded to 4 decimals, and parquet is written with fixed options (zstd, one row group).
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import polars as pl
from sklearn.linear_model import LogisticRegression
from statsmodels.datasets import fair

Array = npt.NDArray[Any]

HERE: Final = Path(__file__).resolve().parent
MODEL: Final = "fair_affairs"
SEED: Final = 1978  # the year of Fair's paper
FIRST_DAY: Final = dt.date(2026, 11, 1)
N_DAYS: Final = 14
DAYS: Final = tuple(FIRST_DAY + dt.timedelta(days=i) for i in range(N_DAYS))

TRAINING_ROWS: Final = 3_400
REFERENCE_ROWS: Final = 1_000  # the rest (1,966) is the held-out pool of the days
ROWS_PER_DAY: Final = 500
#: The training window: 30 days ending with TRAINING_LAST_DAY (inclusive).
TRAINING_LAST_DAY: Final = dt.date(2026, 10, 15)
TRAINING_DAYS: Final = 30
#: Labels (the follow-up answer) arrive between 1 minute and 4 hours after the request,
#: so every label of day D is in before D's evaluation at D + 1 day + 6 h.
LABEL_DELAY_MS: Final = (60_000, 4 * 3_600_000)

#: The quality drop: from this day on, the label of FLIPPED_PER_DAY rows of each day flips.
DROP_FROM: Final = dt.date(2026, 11, 9)
FLIPPED_PER_DAY: Final = 150  # 30% of ROWS_PER_DAY

ID_COLUMN: Final = "request_id"
TIMESTAMP_COLUMN: Final = "event_ts"
TARGET: Final = "had_affair"
SCORE: Final = "affair_score"
PREDICTED: Final = "predicted_affair"

#: statsmodels' occupation codes (DESCRLONG of statsmodels.datasets.fair), as names.
OCCUPATIONS: Final = {
    1: "student",
    2: "unskilled",  # farming, agriculture; semi-skilled or unskilled worker
    3: "white_collar",
    4: "skilled",  # teacher, counselor, nurse, artist, writer, technician, skilled worker
    5: "managerial",  # managerial, administrative, business
    6: "professional",  # professional with an advanced degree
}
INTEGER_FEATURES: Final = ("rate_marriage", "religious", "educ")
FLOAT_FEATURES: Final = ("age", "yrs_married", "children")
CATEGORICAL_FEATURES: Final = ("occupation", "occupation_husb")
FEATURES: Final = (*INTEGER_FEATURES, *FLOAT_FEATURES, *CATEGORICAL_FEATURES)

ZSTD_LEVEL: Final = 15
ROW_GROUP_ROWS: Final = 1_000_000  # larger than any file: exactly one row group
US_PER_MS: Final = 1_000
MS_PER_DAY: Final = 24 * 3_600_000


def rng_for(day_index: int, purpose: int) -> np.random.Generator:
    """An independent, reproducible stream per (day, purpose); day -1 is the split."""
    return np.random.default_rng([SEED, day_index + 1, purpose])


def survey() -> pl.DataFrame:
    """The 6,366 respondents as typed features plus the 0/1 target ``had_affair``.

    ``affairs`` (time spent in affairs, a censored measure) becomes the binary target
    ``affairs > 0`` (32.2% positive); occupation codes become names.
    """
    raw = pl.from_pandas(fair.load_pandas().data)
    codes = pl.Series(list(OCCUPATIONS), dtype=pl.Int64)
    names = pl.Series(list(OCCUPATIONS.values()), dtype=pl.String)
    return raw.select(
        *(pl.col(name).cast(pl.Int64) for name in INTEGER_FEATURES),
        *(pl.col(name).cast(pl.Float64) for name in FLOAT_FEATURES),
        *(
            pl.col(name).cast(pl.Int64).replace_strict(codes, names, return_dtype=pl.String)
            for name in CATEGORICAL_FEATURES
        ),
        (pl.col("affairs") > 0).cast(pl.Int64).alias(TARGET),
    )


def design_matrix(frame: pl.DataFrame, centre: pl.DataFrame, scale: pl.DataFrame) -> Array:
    """Numeric features standardised with the training mean/std, plus one 0/1 column per
    occupation name of each categorical feature (fixed order, so every split agrees)."""
    numeric = [*INTEGER_FEATURES, *FLOAT_FEATURES]
    return frame.select(
        *((pl.col(name) - centre[name][0]) / scale[name][0] for name in numeric),
        *(
            (pl.col(feature) == name).cast(pl.Float64).alias(f"{feature}={name}")
            for feature in CATEGORICAL_FEATURES
            for name in OCCUPATIONS.values()
        ),
    ).to_numpy()


class AffairModel:
    """The production model: a logistic regression on the standardised survey answers."""

    def __init__(self, training: pl.DataFrame) -> None:
        numeric = [*INTEGER_FEATURES, *FLOAT_FEATURES]
        self.centre = training.select(pl.col(numeric).cast(pl.Float64).mean())
        self.scale = training.select(pl.col(numeric).cast(pl.Float64).std())
        self.estimator = LogisticRegression(max_iter=1_000)
        self.estimator.fit(
            design_matrix(training, self.centre, self.scale), training[TARGET].to_numpy()
        )

    def predict(self, frame: pl.DataFrame) -> pl.DataFrame:
        """``affair_score`` (P(had_affair = 1), 4 decimals) and ``predicted_affair``
        (``score >= 0.5``, from the rounded score so the two never disagree)."""
        proba = self.estimator.predict_proba(design_matrix(frame, self.centre, self.scale))
        score = pl.Series(SCORE, np.round(proba[:, 1], 4), dtype=pl.Float64)
        return pl.DataFrame([score]).with_columns(
            (pl.col(SCORE) >= 0.5).cast(pl.Int64).alias(PREDICTED)
        )


def epoch_ms(day: dt.date) -> int:
    return int(dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC).timestamp()) * 1_000


def timestamps(name: str, ms: Array) -> pl.Series:
    us = pl.Series(name, ms * US_PER_MS, dtype=pl.Int64)
    return pl.from_epoch(us, time_unit="us").dt.replace_time_zone("UTC")


def sorted_times(rng: np.random.Generator, n: int, first_day: dt.date, n_days: int) -> Array:
    """``n`` sorted epoch milliseconds, uniform over ``n_days`` days from ``first_day``."""
    ms = epoch_ms(first_day) + rng.integers(0, n_days * MS_PER_DAY, size=n, dtype=np.int64)
    return np.sort(ms)


def request_ids(day: dt.date, n: int) -> pl.Series:
    """Integer request ids ``YYYYMMDD000001`` ... in event-time order (Int64, unique)."""
    first = int(day.strftime("%Y%m%d")) * 1_000_000 + 1
    return pl.Series(ID_COLUMN, np.arange(first, first + n, dtype=np.int64), dtype=pl.Int64)


def split(rows: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(training, reference, held-out pool): one fixed shuffle of the survey."""
    order = rng_for(-1, 0).permutation(rows.height)
    shuffled = rows[order]
    training = shuffled.slice(0, TRAINING_ROWS)
    reference = shuffled.slice(TRAINING_ROWS, REFERENCE_ROWS)
    pool = shuffled.slice(TRAINING_ROWS + REFERENCE_ROWS)
    return training, reference, pool


def training_frame(training: pl.DataFrame) -> pl.DataFrame:
    """The training parquet: integer ids 1.., the training-window timestamp, features, target."""
    times = sorted_times(
        rng_for(-1, 1),
        training.height,
        TRAINING_LAST_DAY - dt.timedelta(days=TRAINING_DAYS - 1),
        TRAINING_DAYS,
    )
    ids = pl.Series(ID_COLUMN, np.arange(1, training.height + 1, dtype=np.int64), dtype=pl.Int64)
    return pl.concat(
        [pl.DataFrame([ids, timestamps(TIMESTAMP_COLUMN, times)]), training], how="horizontal"
    )


def day_frames(
    index: int, day: dt.date, pool: pl.DataFrame, model: AffairModel
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(features, predictions, labels) of one day."""
    drawn = pool[rng_for(index, 0).choice(pool.height, size=ROWS_PER_DAY, replace=False)]
    times = sorted_times(rng_for(index, 1), ROWS_PER_DAY, day, 1)
    keys = pl.DataFrame([request_ids(day, ROWS_PER_DAY), timestamps(TIMESTAMP_COLUMN, times)])
    features = pl.concat([keys, drawn.select(FEATURES)], how="horizontal")
    predictions = pl.concat([keys, model.predict(drawn)], how="horizontal")
    target = drawn[TARGET].to_numpy()
    if day >= DROP_FROM:
        flipped = rng_for(index, 2).choice(ROWS_PER_DAY, size=FLIPPED_PER_DAY, replace=False)
        target = target.copy()
        target[flipped] = 1 - target[flipped]
    low, high = LABEL_DELAY_MS
    delay = rng_for(index, 3).integers(low, high, size=ROWS_PER_DAY, dtype=np.int64)
    labels = pl.DataFrame(
        [
            keys[ID_COLUMN],
            pl.Series(TARGET, target, dtype=pl.Int64),
            timestamps("label_ts", times + delay),
        ]
    ).sort("label_ts", maintain_order=True)
    return features, predictions, labels


def write_parquet(frame: pl.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.write_parquet(
        path,
        compression="zstd",
        compression_level=ZSTD_LEVEL,
        statistics=True,
        row_group_size=ROW_GROUP_ROWS,
    )


def generate(out: Path) -> Path:
    """Write every file of the model under ``out/fair_affairs``; return that directory."""
    root = out / MODEL
    for sub in ("features", "predictions", "labels"):
        for old in sorted((root / sub).glob("*.parquet")):
            old.unlink()
    training, reference, pool = split(survey())
    model = AffairModel(training)
    for name in CATEGORICAL_FEATURES:  # the days must not carry a category training lacks
        unseen = pool.join(training.select(name).unique(), on=name, how="anti")
        if unseen.height:
            raise RuntimeError(f"{name}: held-out values training lacks: {unseen[name].unique()}")
    write_parquet(training_frame(training), root / "training.parquet")
    write_parquet(model.predict(reference), root / "reference_predictions.parquet")
    for index, day in enumerate(DAYS):
        features, predictions, labels = day_frames(index, day, pool, model)
        write_parquet(features, root / "features" / f"{day}.parquet")
        write_parquet(predictions, root / "predictions" / f"{day}.parquet")
        write_parquet(labels, root / "labels" / f"{day}.parquet")
    return root


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--out", type=Path, default=HERE, help="directory to write fair_affairs/ into"
    )
    args = parser.parse_args(argv)
    print(generate(args.out))


if __name__ == "__main__":
    main()
