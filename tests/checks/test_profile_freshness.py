"""The staleness rule of stored profiles: the same source hash and the same format."""

from __future__ import annotations

from checks.profile.freshness import (
    FORMAT_VERSION,
    READABLE_FORMAT_VERSIONS,
    ProfileKey,
    is_reusable,
    source_hash,
)


def test_only_the_same_source_hash_and_format_version_is_reusable() -> None:
    wanted = ProfileKey(source_hash="a" * 64)
    assert is_reusable(ProfileKey("a" * 64, FORMAT_VERSION), wanted)
    assert not is_reusable(ProfileKey("b" * 64, FORMAT_VERSION), wanted)
    assert not is_reusable(ProfileKey("a" * 64, FORMAT_VERSION - 1), wanted)
    assert not is_reusable(None, wanted)


def test_the_key_round_trips_and_reads_the_earlier_layout_name() -> None:
    key = ProfileKey(source_hash="c" * 64)
    assert ProfileKey.from_json(key.to_json()) == key
    assert ProfileKey.from_json({"signature": "c" * 64, "layout": 2}) == ProfileKey("c" * 64, 2)
    assert ProfileKey.from_json({"signature": "c" * 64}) == ProfileKey("c" * 64, 1)
    assert ProfileKey.from_json({"built_at": "x"}) is None
    assert FORMAT_VERSION in READABLE_FORMAT_VERSIONS


def test_the_source_hash_changes_with_the_training_content_only_in_what_it_covers() -> None:
    files = [(100, "d" * 64)]
    sections = {"features": {"x": {"kind": "numeric"}}, "bins": {"x": 10}}
    reordered = dict(reversed(sections.items()))
    assert source_hash(files, sections) == source_hash(list(files), reordered)
    assert source_hash(files, sections) != source_hash([(100, "e" * 64)], sections)
    assert source_hash(files, sections) != source_hash(files, {**sections, "bins": {"x": 12}})
