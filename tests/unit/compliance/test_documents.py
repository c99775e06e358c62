"""KYC documents are judged by their bytes and stored whole under their hash."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from croupier.compliance.documents import (
    SUPPORTED_CONTENT_TYPES,
    DocumentStore,
    validate_document,
)
from croupier.compliance.errors import (
    DocumentTooLarge,
    InvalidKycSubmission,
    UnsupportedDocumentType,
)
from croupier.core.errors import ServiceUnavailable
from croupier.core.settings import KYC_CONTENT_TYPES

PDF = b"%PDF-1.7\n" + b"0" * 100
PNG = b"\x89PNG\r\n\x1a\n" + b"1" * 100
JPEG = b"\xff\xd8\xff\xe0" + b"2" * 100
ALL_TYPES = ("application/pdf", "image/jpeg", "image/png")


def validate(content: bytes, declared: str | None, **options: object) -> object:
    return validate_document(
        content,
        declared,
        allowed_types=options.get("allowed", ALL_TYPES),  # type: ignore[arg-type]
        max_bytes=options.get("max_bytes", 1024),  # type: ignore[arg-type]
        label="document 1",
    )


@pytest.mark.parametrize(
    ("content", "declared", "detected"),
    [
        (PDF, "application/pdf", "application/pdf"),
        (PNG, "image/png", "image/png"),
        (JPEG, "image/jpg", "image/jpeg"),  # a common alias
        (JPEG, "image/jpeg; charset=binary", "image/jpeg"),
        (PDF, None, "application/pdf"),
        (PNG, "application/octet-stream", "image/png"),  # "I don't know" is no claim
    ],
)
def test_the_type_is_read_from_the_bytes(
    content: bytes, declared: str | None, detected: str
) -> None:
    document = validate(content, declared)
    assert document.content_type == detected  # type: ignore[attr-defined]
    assert document.sha256 == hashlib.sha256(content).hexdigest()  # type: ignore[attr-defined]


def test_a_declared_type_the_bytes_contradict_is_refused() -> None:
    with pytest.raises(UnsupportedDocumentType, match="sent as image/png but its content is"):
        validate(PDF, "image/png")


def test_bytes_of_no_accepted_type_are_refused_whatever_was_declared() -> None:
    with pytest.raises(UnsupportedDocumentType):
        validate(b"MZ\x90\x00 an executable", "application/pdf")


def test_a_type_the_operator_turned_off_is_refused() -> None:
    with pytest.raises(UnsupportedDocumentType):
        validate(PNG, "image/png", allowed=("application/pdf",))


def test_size_is_limited_and_empty_files_refused() -> None:
    validate(PDF[:64], None, max_bytes=64)
    with pytest.raises(DocumentTooLarge, match="64 bytes"):
        validate(PDF[:65], None, max_bytes=64)
    with pytest.raises(InvalidKycSubmission, match="empty"):
        validate(b"", None)


def test_a_stored_document_is_named_by_its_hash_and_readable_by_its_owner_only(
    tmp_path: Path,
) -> None:
    store = DocumentStore(tmp_path / "docs")
    document = validate_document(
        PDF, None, allowed_types=ALL_TYPES, max_bytes=1024, label="document 1"
    )

    name = store.save(document)
    again = store.save(document)

    path = store.path_of(name)
    assert name == again == f"{document.sha256[:2]}/{document.sha256}.pdf"
    assert path.read_bytes() == PDF
    assert path.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in path.parent.iterdir()] == [path.name], "no partial files left"


def test_a_storage_failure_is_a_service_fault_and_leaves_nothing_behind(tmp_path: Path) -> None:
    store = DocumentStore(tmp_path / "docs")
    document = validate_document(
        PNG, None, allowed_types=ALL_TYPES, max_bytes=1024, label="document 1"
    )
    # Something in the way of the final rename: the write succeeds, the rename cannot.
    blocker = store.path_of(document.stored_name)
    (blocker / "occupied").mkdir(parents=True)

    with pytest.raises(ServiceUnavailable, match="cannot store"):
        store.save(document)

    assert sorted(p.name for p in blocker.parent.iterdir()) == [blocker.name]


def test_every_type_an_operator_may_allow_can_be_recognised() -> None:
    assert set(KYC_CONTENT_TYPES) == SUPPORTED_CONTENT_TYPES
