"""Table definitions of the compliance domain; migration ``0001_compliance`` creates them.

- ``kyc_reviews``: one per KYC review workflow (id = the workflow's business key); at
  most one open review per player (a partial unique index).
- ``kyc_submissions``: what the player declared, one per ``POST /kyc``; a request for
  more information is answered by a further submission to the same review.
  ``identity_key`` / ``document_key`` are sha256 digests of normalised identity fields,
  indexed for the duplicate-identity check. ``check_flags`` is NULL until the automated
  checks ran, then the (possibly empty) list of what they found.
- ``kyc_documents``: metadata of the uploaded files; the bytes live on disk under the
  upload directory, named by their sha256.
- ``kyc_profiles``: a player's current KYC level and the identity it was granted for.
- ``rg_limits``: responsible-gambling limits in force, keyed by ``limit_key``
  (``deposit:ETH:daily``, ``loss:BTC:weekly``, ``session_reminder``); ``value`` is
  minor units, or seconds for the session reminder.
- ``rg_limit_changes``: every change a player asked for; a loosening waits as
  ``pending`` until its ``effective_at`` (the 24-hour rule), at most one per limit.
- ``rg_exclusions``: self-exclusions and cool-offs; append-only (no early lifting).
- ``audit_log``: the append-only, hash-chained record of staff actions.
"""

from __future__ import annotations

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Column,
    Date,
    DateTime,
    ForeignKey,
    MetaData,
    SmallInteger,
    Table,
    Text,
    Uuid,
)
from sqlalchemy.dialects.postgresql import JSONB

from croupier.ledger.schema import MinorUnits

metadata = MetaData()

kyc_reviews = Table(
    "kyc_reviews",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("user_id", Uuid, nullable=False),
    Column("requested_level", SmallInteger, nullable=False),
    Column("status", Text, nullable=False),
    Column("granted_level", SmallInteger),
    Column("decided_by", Text),
    Column("decision_reason", Text),
    # The message of the latest request for more information, shown to the player.
    Column("info_request", Text),
    # The decision last applied, so a retried activity does not apply it twice.
    Column("last_decision_id", Uuid),
    Column("reminders_sent", SmallInteger, nullable=False),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("closed_at", DateTime(timezone=True)),
)

kyc_submissions = Table(
    "kyc_submissions",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("review_id", Uuid, ForeignKey("kyc_reviews.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", Uuid, nullable=False),
    Column("given_names", Text, nullable=False),
    Column("family_name", Text, nullable=False),
    Column("date_of_birth", Date, nullable=False),
    Column("nationality", Text, nullable=False),
    Column("document_type", Text, nullable=False),
    Column("document_number", Text, nullable=False),
    Column("document_country", Text, nullable=False),
    Column("document_expires_on", Date),
    Column("identity_key", Text, nullable=False),
    Column("document_key", Text, nullable=False),
    Column("check_flags", ARRAY(Text)),
    Column("checked_at", DateTime(timezone=True)),
    Column("submitted_at", DateTime(timezone=True), nullable=False),
)

kyc_documents = Table(
    "kyc_documents",
    metadata,
    Column(
        "submission_id",
        Uuid,
        ForeignKey("kyc_submissions.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("position", SmallInteger, primary_key=True),
    Column("sha256", Text, nullable=False),
    Column("content_type", Text, nullable=False),
    Column("size_bytes", BigInteger, nullable=False),
    Column("stored_name", Text, nullable=False),
)

kyc_profiles = Table(
    "kyc_profiles",
    metadata,
    Column("user_id", Uuid, primary_key=True),
    Column("level", SmallInteger, nullable=False),
    Column("review_id", Uuid, ForeignKey("kyc_reviews.id"), nullable=False),
    Column("given_names", Text, nullable=False),
    Column("family_name", Text, nullable=False),
    Column("date_of_birth", Date, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

rg_limits = Table(
    "rg_limits",
    metadata,
    Column("user_id", Uuid, primary_key=True),
    Column("limit_key", Text, primary_key=True),
    Column("value", MinorUnits, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

rg_limit_changes = Table(
    "rg_limit_changes",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("user_id", Uuid, nullable=False),
    Column("limit_key", Text, nullable=False),
    # NULL: no limit (before: none was set; after: the player removes it).
    Column("old_value", MinorUnits),
    Column("new_value", MinorUnits),
    Column("status", Text, nullable=False),
    Column("requested_at", DateTime(timezone=True), nullable=False),
    Column("effective_at", DateTime(timezone=True), nullable=False),
    Column("settled_at", DateTime(timezone=True)),
)

rg_exclusions = Table(
    "rg_exclusions",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("user_id", Uuid, nullable=False),
    Column("kind", Text, nullable=False),
    Column("starts_at", DateTime(timezone=True), nullable=False),
    Column("ends_at", DateTime(timezone=True), nullable=False),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("subject", Text, nullable=False),
    Column("details", JSONB, nullable=False),
    Column("prev_hash", Text, nullable=False),
    Column("hash", Text, nullable=False),
)
