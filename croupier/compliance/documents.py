"""KYC documents: check what the bytes are, then keep them on disk under their hash.

The type is read from the file's own magic bytes; the type the upload declared must
agree with it, because a declared type is whatever the client chose to send. Files are
named by their sha256 (content addressing: the same scan uploaded twice is stored
once, and a name can never point at other bytes) and written atomically: a temporary
file in the target directory, fsync, then rename, so a crash or a full disk never
leaves a half-written document under a real name.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from croupier.compliance.errors import (
    DocumentTooLarge,
    InvalidKycSubmission,
    UnsupportedDocumentType,
)
from croupier.core.errors import ServiceUnavailable

# Magic numbers: PDF (ISO 32000 header), PNG (RFC 2083 signature), JPEG (SOI + marker).
_SIGNATURES: dict[str, bytes] = {
    "application/pdf": b"%PDF-",
    "image/png": b"\x89PNG\r\n\x1a\n",
    "image/jpeg": b"\xff\xd8\xff",
}
_EXTENSIONS = {"application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg"}
# What clients send when they do not know; treated as no declaration at all.
_UNDECLARED = frozenset({"", "application/octet-stream"})
_ALIASES = {"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg"}
SUPPORTED_CONTENT_TYPES = frozenset(_SIGNATURES)


@dataclass(frozen=True, slots=True)
class Document:
    """One validated upload, still in memory."""

    content_type: str
    content: bytes
    sha256: str

    @property
    def size_bytes(self) -> int:
        return len(self.content)

    @property
    def stored_name(self) -> str:
        """Where it lives under the upload directory: fanned out by the hash's first byte."""
        return f"{self.sha256[:2]}/{self.sha256}{_EXTENSIONS[self.content_type]}"


def sniff_content_type(content: bytes) -> str | None:
    for content_type, signature in _SIGNATURES.items():
        if content.startswith(signature):
            return content_type
    return None


def validate_document(
    content: bytes,
    declared_type: str | None,
    *,
    allowed_types: Collection[str],
    max_bytes: int,
    label: str,
) -> Document:
    """``content`` as a ``Document``, or the reason it is refused (``label`` names it)."""
    assert set(allowed_types) <= SUPPORTED_CONTENT_TYPES, allowed_types
    if not content:
        raise InvalidKycSubmission(f"{label} is empty")
    if len(content) > max_bytes:
        raise DocumentTooLarge(f"{label} is larger than {max_bytes} bytes")
    actual = sniff_content_type(content)
    allowed = ", ".join(sorted(allowed_types))
    if actual is None or actual not in allowed_types:
        raise UnsupportedDocumentType(f"{label} is not one of the accepted types ({allowed})")
    declared = _normalise_declared(declared_type)
    if declared is not None and declared != actual:
        raise UnsupportedDocumentType(f"{label} was sent as {declared} but its content is {actual}")
    return Document(
        content_type=actual, content=content, sha256=hashlib.sha256(content).hexdigest()
    )


def _normalise_declared(declared_type: str | None) -> str | None:
    if declared_type is None:
        return None
    media_type = declared_type.split(";", 1)[0].strip().lower()
    if media_type in _UNDECLARED:
        return None
    return _ALIASES.get(media_type, media_type)


class DocumentStore:
    """Content-addressed files under one directory, readable by the service user only."""

    def __init__(self, root: Path) -> None:
        self._root = root

    def path_of(self, stored_name: str) -> Path:
        path = (self._root / stored_name).resolve()
        assert path.is_relative_to(self._root.resolve()), stored_name
        return path

    def save(self, document: Document) -> str:
        """Write ``document`` unless its bytes are already stored; its stored name."""
        target = self.path_of(document.stored_name)
        try:
            if target.is_file():
                return document.stored_name
            target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            _write_atomically(target, document.content)
        except OSError as error:
            raise ServiceUnavailable(f"cannot store the document: {error.strerror}") from None
        return document.stored_name


def _write_atomically(target: Path, content: bytes) -> None:
    descriptor, partial = tempfile.mkstemp(dir=target.parent, prefix=".partial-")
    try:
        with os.fdopen(descriptor, "wb") as file:  # mkstemp creates it with mode 0600
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
        os.replace(partial, target)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    directory = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # the rename itself survives a crash
    finally:
        os.close(directory)
