"""compliance: KYC reviews, submissions, documents, profiles; RG limits and exclusions;
the hash-chained staff audit log

Revision ID: 0001_compliance
Revises:
Create Date: 2025-01-01

See ``croupier/compliance/tables.py`` for the meaning of each table. The database
guards what the code promises:

- one open KYC review per player; a closed review names how it ended;
- at most one pending (delayed) limit change per player and limit;
- exclusions and audit rows are never changed or removed (triggers refuse UPDATE,
  DELETE and TRUNCATE);
- each audit row extends the chain: ``seq`` follows the last row and ``prev_hash`` is
  that row's ``hash`` (a trigger checks it; ``prev_hash`` is unique, so no fork).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0001_compliance"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("compliance",)
depends_on: str | Sequence[str] | None = "0001_identity"


def upgrade() -> None:
    _kyc()
    _responsible_gambling()
    _audit_log()


def _kyc() -> None:
    op.execute(
        """
        CREATE TABLE kyc_reviews (
            id uuid PRIMARY KEY,
            user_id uuid NOT NULL
                CONSTRAINT fk_kyc_reviews_user_id_users REFERENCES users (id),
            requested_level smallint NOT NULL,
            status text NOT NULL,
            granted_level smallint,
            decided_by text,
            decision_reason text,
            info_request text,
            last_decision_id uuid,
            reminders_sent smallint NOT NULL DEFAULT 0,
            opened_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL,
            closed_at timestamptz,
            CONSTRAINT ck_kyc_reviews_requested_level CHECK (requested_level BETWEEN 1 AND 3),
            CONSTRAINT ck_kyc_reviews_status CHECK (status IN (
                'submitted', 'checking', 'awaiting_review', 'info_requested',
                'approved', 'rejected', 'expired')),
            CONSTRAINT ck_kyc_reviews_closed_when_final
                CHECK ((closed_at IS NOT NULL) = (status IN ('approved', 'rejected', 'expired'))),
            CONSTRAINT ck_kyc_reviews_level_when_approved
                CHECK ((granted_level IS NOT NULL) = (status = 'approved')
                       AND (granted_level IS NULL OR granted_level BETWEEN 1 AND 3)),
            CONSTRAINT ck_kyc_reviews_decision_has_reviewer
                CHECK (status NOT IN ('approved', 'rejected')
                       OR (decided_by IS NOT NULL AND decision_reason IS NOT NULL)),
            CONSTRAINT ck_kyc_reviews_text_lengths
                CHECK (length(decision_reason) <= 2000 AND length(info_request) <= 2000
                       AND length(decided_by) <= 100),
            CONSTRAINT ck_kyc_reviews_reminders CHECK (reminders_sent >= 0)
        )
        """
    )
    op.execute(
        "CREATE UNIQUE INDEX uq_kyc_reviews_one_open_per_user ON kyc_reviews (user_id) "
        "WHERE closed_at IS NULL"
    )
    op.execute(
        "CREATE INDEX ix_kyc_reviews_open_by_status ON kyc_reviews (status, opened_at) "
        "WHERE closed_at IS NULL"
    )
    op.execute("CREATE INDEX ix_kyc_reviews_user_id ON kyc_reviews (user_id, opened_at)")
    op.execute(
        """
        CREATE TABLE kyc_submissions (
            id uuid PRIMARY KEY,
            review_id uuid NOT NULL
                CONSTRAINT fk_kyc_submissions_review_id_kyc_reviews
                REFERENCES kyc_reviews (id) ON DELETE CASCADE,
            user_id uuid NOT NULL
                CONSTRAINT fk_kyc_submissions_user_id_users REFERENCES users (id),
            given_names text NOT NULL,
            family_name text NOT NULL,
            date_of_birth date NOT NULL,
            nationality text NOT NULL,
            document_type text NOT NULL,
            document_number text NOT NULL,
            document_country text NOT NULL,
            document_expires_on date,
            identity_key text NOT NULL,
            document_key text NOT NULL,
            check_flags text[],
            checked_at timestamptz,
            submitted_at timestamptz NOT NULL,
            CONSTRAINT ck_kyc_submissions_names
                CHECK (length(given_names) BETWEEN 1 AND 100
                       AND length(family_name) BETWEEN 1 AND 100),
            CONSTRAINT ck_kyc_submissions_countries
                CHECK (nationality ~ '^[A-Z]{2}$' AND document_country ~ '^[A-Z]{2}$'),
            CONSTRAINT ck_kyc_submissions_document_type CHECK (document_type IN (
                'passport', 'national_id', 'driving_licence', 'residence_permit')),
            CONSTRAINT ck_kyc_submissions_document_number
                CHECK (length(document_number) BETWEEN 1 AND 40),
            CONSTRAINT ck_kyc_submissions_keys
                CHECK (identity_key ~ '^[0-9a-f]{64}$' AND document_key ~ '^[0-9a-f]{64}$'),
            CONSTRAINT ck_kyc_submissions_checked_together
                CHECK ((check_flags IS NULL) = (checked_at IS NULL))
        )
        """
    )
    op.execute("CREATE INDEX ix_kyc_submissions_review_id ON kyc_submissions (review_id)")
    op.execute("CREATE INDEX ix_kyc_submissions_identity_key ON kyc_submissions (identity_key)")
    op.execute("CREATE INDEX ix_kyc_submissions_document_key ON kyc_submissions (document_key)")
    op.execute(
        """
        CREATE TABLE kyc_documents (
            submission_id uuid NOT NULL
                CONSTRAINT fk_kyc_documents_submission_id_kyc_submissions
                REFERENCES kyc_submissions (id) ON DELETE CASCADE,
            position smallint NOT NULL,
            sha256 text NOT NULL,
            content_type text NOT NULL,
            size_bytes bigint NOT NULL,
            stored_name text NOT NULL,
            CONSTRAINT pk_kyc_documents PRIMARY KEY (submission_id, position),
            CONSTRAINT ck_kyc_documents_position CHECK (position BETWEEN 0 AND 9),
            CONSTRAINT ck_kyc_documents_sha256 CHECK (sha256 ~ '^[0-9a-f]{64}$'),
            CONSTRAINT ck_kyc_documents_content_type
                CHECK (content_type IN ('application/pdf', 'image/jpeg', 'image/png')),
            CONSTRAINT ck_kyc_documents_size CHECK (size_bytes > 0),
            CONSTRAINT ck_kyc_documents_stored_name CHECK (length(stored_name) <= 100)
        )
        """
    )
    op.execute(
        """
        CREATE TABLE kyc_profiles (
            user_id uuid PRIMARY KEY
                CONSTRAINT fk_kyc_profiles_user_id_users REFERENCES users (id),
            level smallint NOT NULL,
            review_id uuid NOT NULL
                CONSTRAINT fk_kyc_profiles_review_id_kyc_reviews REFERENCES kyc_reviews (id),
            given_names text NOT NULL,
            family_name text NOT NULL,
            date_of_birth date NOT NULL,
            updated_at timestamptz NOT NULL,
            CONSTRAINT ck_kyc_profiles_level CHECK (level BETWEEN 1 AND 3)
        )
        """
    )


def _responsible_gambling() -> None:
    op.execute(
        """
        CREATE TABLE rg_limits (
            user_id uuid NOT NULL
                CONSTRAINT fk_rg_limits_user_id_users REFERENCES users (id),
            limit_key text NOT NULL,
            value numeric(78, 0) NOT NULL,
            updated_at timestamptz NOT NULL,
            CONSTRAINT pk_rg_limits PRIMARY KEY (user_id, limit_key),
            CONSTRAINT ck_rg_limits_key CHECK (limit_key ~
                '^((deposit|loss):[A-Z]{2,10}:(daily|weekly|monthly)|session_reminder)$'),
            CONSTRAINT ck_rg_limits_value CHECK (value > 0)
        )
        """
    )
    op.execute(
        """
        CREATE TABLE rg_limit_changes (
            id uuid PRIMARY KEY,
            user_id uuid NOT NULL
                CONSTRAINT fk_rg_limit_changes_user_id_users REFERENCES users (id),
            limit_key text NOT NULL,
            old_value numeric(78, 0),
            new_value numeric(78, 0),
            status text NOT NULL,
            requested_at timestamptz NOT NULL,
            effective_at timestamptz NOT NULL,
            settled_at timestamptz,
            CONSTRAINT ck_rg_limit_changes_status
                CHECK (status IN ('applied', 'pending', 'superseded')),
            CONSTRAINT ck_rg_limit_changes_settled
                CHECK ((status = 'pending') = (settled_at IS NULL)),
            CONSTRAINT ck_rg_limit_changes_values
                CHECK ((old_value IS NULL OR old_value > 0)
                       AND (new_value IS NULL OR new_value > 0)),
            CONSTRAINT ck_rg_limit_changes_effective CHECK (effective_at >= requested_at)
        )
        """
    )
    op.execute(
        "CREATE UNIQUE INDEX uq_rg_limit_changes_one_pending ON rg_limit_changes "
        "(user_id, limit_key) WHERE status = 'pending'"
    )
    op.execute(
        "CREATE INDEX ix_rg_limit_changes_user_id ON rg_limit_changes (user_id, requested_at)"
    )
    op.execute(
        """
        CREATE TABLE rg_exclusions (
            id uuid PRIMARY KEY,
            user_id uuid NOT NULL
                CONSTRAINT fk_rg_exclusions_user_id_users REFERENCES users (id),
            kind text NOT NULL,
            starts_at timestamptz NOT NULL,
            ends_at timestamptz NOT NULL,
            CONSTRAINT ck_rg_exclusions_kind CHECK (kind IN ('self_exclusion', 'cool_off')),
            CONSTRAINT ck_rg_exclusions_period CHECK (ends_at > starts_at)
        )
        """
    )
    op.execute("CREATE INDEX ix_rg_exclusions_user_id ON rg_exclusions (user_id, kind, ends_at)")
    op.execute(
        """
        CREATE FUNCTION compliance_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END
        $$
        """
    )
    _append_only("rg_exclusions")


def _audit_log() -> None:
    op.execute(
        r"""
        CREATE TABLE audit_log (
            seq bigint PRIMARY KEY,
            at timestamptz NOT NULL,
            actor text NOT NULL,
            action text NOT NULL,
            subject text NOT NULL,
            details jsonb NOT NULL,
            prev_hash text NOT NULL,
            hash text NOT NULL,
            CONSTRAINT uq_audit_log_prev_hash UNIQUE (prev_hash),
            CONSTRAINT ck_audit_log_seq CHECK (seq >= 1),
            CONSTRAINT ck_audit_log_actor CHECK (length(actor) BETWEEN 1 AND 100),
            CONSTRAINT ck_audit_log_action
                CHECK (action ~ '^[a-z][a-z_]*(\.[a-z][a-z_]*)+$' AND length(action) <= 64),
            CONSTRAINT ck_audit_log_subject CHECK (length(subject) BETWEEN 1 AND 200),
            CONSTRAINT ck_audit_log_details CHECK (jsonb_typeof(details) = 'object'),
            CONSTRAINT ck_audit_log_hashes
                CHECK (prev_hash ~ '^[0-9a-f]{64}$' AND hash ~ '^[0-9a-f]{64}$')
        )
        """
    )
    # The first row's prev_hash is 64 zeros (croupier.compliance.audit.GENESIS_HASH).
    op.execute(
        """
        CREATE FUNCTION audit_log_extends_chain() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            expected text;
        BEGIN
            IF NEW.seq = 1 THEN
                expected := repeat('0', 64);
            ELSE
                SELECT hash INTO expected FROM audit_log WHERE seq = NEW.seq - 1;
            END IF;
            IF expected IS NULL OR NEW.prev_hash <> expected THEN
                RAISE EXCEPTION 'audit_log row % does not extend the chain', NEW.seq
                    USING ERRCODE = 'integrity_constraint_violation';
            END IF;
            RETURN NEW;
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER audit_log_extends_chain BEFORE INSERT ON audit_log "
        "FOR EACH ROW EXECUTE FUNCTION audit_log_extends_chain()"
    )
    _append_only("audit_log")


def _append_only(table: str) -> None:
    op.execute(
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION compliance_refuse_change()"
    )
    op.execute(
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION compliance_refuse_change()"
    )


def downgrade() -> None:
    op.execute(
        "DROP TABLE audit_log, rg_exclusions, rg_limit_changes, rg_limits, kyc_profiles, "
        "kyc_documents, kyc_submissions, kyc_reviews"
    )
    op.execute("DROP FUNCTION audit_log_extends_chain(), compliance_refuse_change()")
