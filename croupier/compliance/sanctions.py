"""Screening names against a sanctions list kept as a local CSV file.

The file (``CROUPIER_SANCTIONS_LIST_PATH``; by default the made-up sample shipped in
``data/``) has the columns ``reference,name,date_of_birth,country``; an alias is one
more row with the same reference. Matching is deliberately forgiving about how a name
is written and strict about who it is:

- names are compared as sets of words after folding case and accents and splitting on
  anything that is not a letter or digit, so word order, hyphens and diacritics do not
  hide a match (``Sélène Marchaudoux`` = ``MARCHAUDOUX, Selene``);
- one name's words may be a subset of the other's (a middle name missing on either
  side still matches), as long as at least two words are shared;
- when the list gives a date of birth and it differs from the player's, the entry is
  taken to be someone else, the usual way screening discounts namesakes.

A hit never rejects anyone by itself: it sends the review to compliance staff.
"""

from __future__ import annotations

import csv
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from croupier.compliance.errors import SanctionsListUnavailable

SAMPLE_LIST_PATH = Path(__file__).parent / "data" / "sanctions-sample.csv"
MAX_LIST_BYTES = 64 * 1024 * 1024
MAX_ENTRIES = 500_000
MIN_SHARED_WORDS = 2
_COLUMNS = ("reference", "name", "date_of_birth", "country")


def name_words(name: str) -> frozenset[str]:
    """The words of a name, case- and accent-folded: the unit names are compared in."""
    decomposed = unicodedata.normalize("NFKD", name)
    letters = "".join(char for char in decomposed if not unicodedata.combining(char))
    cleaned = "".join(char if char.isalnum() else " " for char in letters.casefold())
    return frozenset(cleaned.split())


@dataclass(frozen=True, slots=True)
class SanctionsEntry:
    reference: str
    name: str
    date_of_birth: date | None
    words: frozenset[str]


@dataclass(frozen=True, slots=True)
class SanctionsHit:
    reference: str
    listed_name: str
    date_of_birth_matched: bool


class SanctionsList:
    def __init__(self, entries: Sequence[SanctionsEntry]) -> None:
        assert len(entries) <= MAX_ENTRIES
        self._entries = tuple(entries)
        self._by_word: dict[str, list[int]] = defaultdict(list)
        for index, entry in enumerate(self._entries):
            for word in entry.words:
                self._by_word[word].append(index)

    def __len__(self) -> int:
        return len(self._entries)

    @classmethod
    def load(cls, path: Path) -> SanctionsList:
        """Parse the file, or raise ``SanctionsListUnavailable`` saying what is wrong with it."""
        try:
            if path.stat().st_size > MAX_LIST_BYTES:
                raise SanctionsListUnavailable(
                    f"sanctions list {path} is larger than {MAX_LIST_BYTES} bytes"
                )
            with path.open(newline="", encoding="utf-8") as file:
                return cls(list(_parse(path, csv.DictReader(file))))
        except OSError as error:
            raise SanctionsListUnavailable(
                f"cannot read sanctions list {path}: {error.strerror}"
            ) from None
        except UnicodeDecodeError:
            raise SanctionsListUnavailable(f"sanctions list {path} is not UTF-8") from None

    def matches(self, full_name: str, date_of_birth: date) -> tuple[SanctionsHit, ...]:
        words = name_words(full_name)
        candidates = sorted({index for word in words for index in self._by_word.get(word, ())})
        hits = []
        for index in candidates:
            entry = self._entries[index]
            if not _same_name(words, entry.words):
                continue
            if entry.date_of_birth is not None and entry.date_of_birth != date_of_birth:
                continue
            hits.append(SanctionsHit(entry.reference, entry.name, entry.date_of_birth is not None))
        return tuple(hits)


def _same_name(player: frozenset[str], listed: frozenset[str]) -> bool:
    shared = len(player & listed)
    return shared >= MIN_SHARED_WORDS and shared == min(len(player), len(listed))


def _parse(path: Path, reader: csv.DictReader[str]) -> Iterable[SanctionsEntry]:
    if tuple(reader.fieldnames or ()) != _COLUMNS:
        raise SanctionsListUnavailable(
            f"sanctions list {path} must have the header {','.join(_COLUMNS)}"
        )
    for count, row in enumerate(reader, start=1):
        line = reader.line_num
        if count > MAX_ENTRIES:
            raise SanctionsListUnavailable(f"sanctions list {path} has over {MAX_ENTRIES} rows")
        reference, name = (row["reference"] or "").strip(), (row["name"] or "").strip()
        if not reference or len(name_words(name)) == 0:
            raise SanctionsListUnavailable(f"{path}:{line}: reference and name are required")
        born = (row["date_of_birth"] or "").strip()
        try:
            date_of_birth = date.fromisoformat(born) if born else None
        except ValueError:
            raise SanctionsListUnavailable(
                f"{path}:{line}: date_of_birth must be YYYY-MM-DD or empty"
            ) from None
        yield SanctionsEntry(reference, name, date_of_birth, name_words(name))


def configured_list(path: Path | None) -> SanctionsList:
    """The list a setting names, or the made-up sample when none is configured."""
    return SanctionsList.load(SAMPLE_LIST_PATH if path is None else path)
