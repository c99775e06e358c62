"""Sanctions screening: forgiving about spelling, strict about who someone is."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from croupier.compliance.errors import SanctionsListUnavailable
from croupier.compliance.sanctions import SAMPLE_LIST_PATH, SanctionsList, configured_list

SAMPLE = SanctionsList.load(SAMPLE_LIST_PATH)


@pytest.mark.parametrize(
    "written",
    [
        "Tobiah Quillmarsh",
        "QUILLMARSH, tobiah",
        "Tobiah J. Quillmarsh",  # a middle initial the list does not have
    ],
)
def test_a_listed_name_matches_however_it_is_written(written: str) -> None:
    hits = SAMPLE.matches(written, date(1974, 11, 2))
    assert [hit.reference for hit in hits] == ["SAMPLE-0003"]
    assert hits[0].date_of_birth_matched


def test_accents_are_folded_and_aliases_share_a_reference() -> None:
    assert [h.reference for h in SAMPLE.matches("Selene Marchaudoux", date(1985, 4, 17))] == [
        "SAMPLE-0009"
    ]
    assert [h.reference for h in SAMPLE.matches("Dimitar Halvorski", date(1966, 9, 3))] == [
        "SAMPLE-0010"
    ]


def test_a_different_birth_date_is_a_namesake_not_a_match() -> None:
    assert SAMPLE.matches("Tobiah Quillmarsh", date(1974, 11, 3)) == ()


def test_an_entry_without_a_birth_date_matches_anyone_of_that_name() -> None:
    hits = SAMPLE.matches("Marguerite Ostendahl", date(2000, 1, 1))
    assert [(hit.reference, hit.date_of_birth_matched) for hit in hits] == [("SAMPLE-0002", False)]


def test_one_shared_word_is_not_a_match() -> None:
    assert SAMPLE.matches("Tobiah Smith", date(1974, 11, 2)) == ()


def test_no_setting_means_the_sample_list(tmp_path: Path) -> None:
    assert len(configured_list(None)) == len(SAMPLE) > 10


@pytest.mark.parametrize(
    ("content", "complaint"),
    [
        ("name,reference\nx,y\n", "header"),
        ("reference,name,date_of_birth,country\nR1,,,ZZ\n", "required"),
        ("reference,name,date_of_birth,country\nR1,Ann Example,01/02/1990,ZZ\n", "YYYY-MM-DD"),
    ],
)
def test_a_malformed_list_is_refused_with_the_line_named(
    tmp_path: Path, content: str, complaint: str
) -> None:
    path = tmp_path / "list.csv"
    path.write_text(content)
    with pytest.raises(SanctionsListUnavailable, match=complaint):
        SanctionsList.load(path)


def test_a_missing_list_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(SanctionsListUnavailable, match="cannot read"):
        configured_list(tmp_path / "missing.csv")
