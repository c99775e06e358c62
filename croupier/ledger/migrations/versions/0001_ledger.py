"""ledger: accounts, sharded balances, the transfer journal and its entries, immutability

Revision ID: 0001_ledger
Revises:
Create Date: 2025-01-01

Tables (see ``croupier/ledger/schema.py`` for the column-by-column meaning):

- ``accounts``: static facts; only ``closed_at`` may ever change.
- ``account_balances``: the materialized balance of an account, one row per shard. A hot
  account (the house) has several shards so concurrent bets lock different rows; its
  balance is the sum of its shards. The balance limits are copied onto each row so a
  CHECK constraint, not only the posting code, refuses an overdraft; ``closed`` is copied
  too, so a posting that waited for the row lock sees a close that committed meanwhile.
- ``transfer_ids``: one row per transfer id, never partitioned, so an id is unique across
  every partition of ``transfers`` (a partitioned table can only enforce uniqueness
  together with its partition key). It also says which partition holds the transfer.
- ``transfers`` and ``ledger_entries``: range-partitioned by month on ``created_at``.

No foreign keys from ``transfers``/``ledger_entries`` to ``accounts``: every insert would
take a KEY SHARE lock on the account row, and on the house account that turns into
MultiXact traffic on the hottest row of the database. The posting functions check the
accounts instead, and reconciliation proves every entry names a known account.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0001_ledger"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("ledger",)
depends_on: str | Sequence[str] | None = None

# Partitions created by the migration itself: the current month and this many after it.
INITIAL_MONTHS_AHEAD = 6

ACCOUNT_KINDS = (
    "player_cash",
    "player_bonus",
    "house",
    "fees",
    "promotions",
    "deposits_in_flight",
    "withdrawals_pending",
    "hot_wallet",
    "cold_wallet",
)

# Regular expressions in CHECK constraints avoid bounded repetition ({1,255}): PostgreSQL
# expands it into a large automaton and the check then costs more than the insert itself.
# Transfer ids use the "C" collation: they are ASCII keys compared byte by byte.
TABLES = """
CREATE TABLE accounts (
    id bigint GENERATED ALWAYS AS IDENTITY,
    kind text NOT NULL,
    owner text NOT NULL,
    currency text NOT NULL,
    debits_must_not_exceed_credits boolean NOT NULL,
    credits_must_not_exceed_debits boolean NOT NULL,
    shards smallint NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    closed_at timestamptz,
    CONSTRAINT pk_accounts PRIMARY KEY (id),
    CONSTRAINT uq_accounts_kind_owner_currency UNIQUE (kind, owner, currency),
    CONSTRAINT ck_accounts_kind CHECK (kind IN ({kinds})),
    CONSTRAINT ck_accounts_owner CHECK (length(owner) BETWEEN 1 AND 200),
    CONSTRAINT ck_accounts_currency
        CHECK (currency ~ '^[A-Z][A-Z0-9]+$' AND length(currency) <= 10),
    CONSTRAINT ck_accounts_one_limit
        CHECK (NOT (debits_must_not_exceed_credits AND credits_must_not_exceed_debits)),
    CONSTRAINT ck_accounts_shards CHECK (shards BETWEEN 1 AND 256),
    CONSTRAINT ck_accounts_sharded_means_unlimited CHECK (
        shards = 1 OR NOT (debits_must_not_exceed_credits OR credits_must_not_exceed_debits)
    )
);

CREATE TABLE account_balances (
    account_id bigint NOT NULL,
    shard smallint NOT NULL,
    debits_must_not_exceed_credits boolean NOT NULL,
    credits_must_not_exceed_debits boolean NOT NULL,
    closed boolean NOT NULL DEFAULT false,
    debits_pending numeric(78, 0) NOT NULL DEFAULT 0,
    debits_posted numeric(78, 0) NOT NULL DEFAULT 0,
    credits_pending numeric(78, 0) NOT NULL DEFAULT 0,
    credits_posted numeric(78, 0) NOT NULL DEFAULT 0,
    CONSTRAINT pk_account_balances PRIMARY KEY (account_id, shard),
    CONSTRAINT fk_account_balances_account_id_accounts
        FOREIGN KEY (account_id) REFERENCES accounts (id),
    CONSTRAINT ck_account_balances_not_negative CHECK (
        debits_pending >= 0 AND debits_posted >= 0
        AND credits_pending >= 0 AND credits_posted >= 0
    ),
    CONSTRAINT ck_account_balances_debits_within_credits CHECK (
        NOT debits_must_not_exceed_credits OR debits_pending + debits_posted <= credits_posted
    ),
    CONSTRAINT ck_account_balances_credits_within_debits CHECK (
        NOT credits_must_not_exceed_debits OR credits_pending + credits_posted <= debits_posted
    )
) WITH (fillfactor = 50);

CREATE TABLE transfer_ids (
    id text COLLATE "C" NOT NULL,
    created_at timestamptz NOT NULL,
    CONSTRAINT pk_transfer_ids PRIMARY KEY (id),
    CONSTRAINT ck_transfer_ids_id CHECK (id ~ '^[A-Za-z0-9_.:-]+$' AND length(id) <= 255)
);

CREATE TABLE transfers (
    id text COLLATE "C" NOT NULL,
    phase text NOT NULL,
    status text NOT NULL,
    debit_account_id bigint NOT NULL,
    credit_account_id bigint NOT NULL,
    debit_shard smallint NOT NULL,
    credit_shard smallint NOT NULL,
    amount numeric(78, 0) NOT NULL,
    currency text NOT NULL,
    type text NOT NULL,
    reference_id text,
    pending_id text COLLATE "C",
    timeout_s integer,
    expires_at timestamptz,
    metadata jsonb,
    created_at timestamptz NOT NULL,
    CONSTRAINT pk_transfers PRIMARY KEY (id, created_at),
    CONSTRAINT ck_transfers_amount_positive CHECK (amount > 0),
    CONSTRAINT ck_transfers_distinct_accounts CHECK (debit_account_id <> credit_account_id),
    CONSTRAINT ck_transfers_type CHECK (type ~ '^[a-z][a-z_]*$' AND length(type) <= 32),
    CONSTRAINT ck_transfers_reference_id CHECK (length(reference_id) BETWEEN 1 AND 255),
    CONSTRAINT ck_transfers_phase_status CHECK (
        (phase = 'single' AND status = 'posted')
        OR (phase = 'hold' AND status IN ('pending', 'posted', 'voided', 'expired'))
        OR (phase = 'post' AND status = 'posted')
        OR (phase = 'void' AND status = 'voided')
    ),
    CONSTRAINT ck_transfers_pending_id_resolves
        CHECK ((pending_id IS NOT NULL) = (phase IN ('post', 'void'))),
    CONSTRAINT ck_transfers_timeout_on_holds_only CHECK (
        (timeout_s IS NULL OR (phase = 'hold' AND timeout_s > 0))
        AND (expires_at IS NULL) = (timeout_s IS NULL)
    ),
    CONSTRAINT ck_transfers_metadata_object
        CHECK (metadata IS NULL OR jsonb_typeof(metadata) = 'object')
) PARTITION BY RANGE (created_at);

CREATE INDEX ix_transfers_pending_expires_at ON transfers (expires_at) WHERE status = 'pending';

CREATE TABLE ledger_entries (
    id bigint GENERATED ALWAYS AS IDENTITY,
    transfer_id text COLLATE "C" NOT NULL,
    account_id bigint NOT NULL,
    direction text NOT NULL,
    amount numeric(78, 0) NOT NULL,
    currency text NOT NULL,
    type text NOT NULL,
    reference_id text,
    created_at timestamptz NOT NULL,
    CONSTRAINT pk_ledger_entries PRIMARY KEY (id, created_at),
    CONSTRAINT ck_ledger_entries_direction CHECK (direction IN ('debit', 'credit')),
    CONSTRAINT ck_ledger_entries_amount_positive CHECK (amount > 0)
) PARTITION BY RANGE (created_at);

CREATE INDEX ix_ledger_entries_account_id_created_at_id
    ON ledger_entries (account_id, created_at, id);
""".format(kinds=", ".join(f"'{kind}'" for kind in ACCOUNT_KINDS))

# The database itself refuses to rewrite history. Errors use SQLSTATE CL090, which
# croupier.ledger.errors maps to LedgerImmutable.
IMMUTABILITY = """
CREATE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% on % is refused: the ledger is append-only; correct it with a '
        'reversing transfer', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'CL090';
END
$$;

-- A hold may change status exactly once, from pending to posted, voided or expired;
-- every other column of every transfer is frozen.
CREATE FUNCTION ledger_transfers_guard_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.phase = 'hold' AND OLD.status = 'pending'
        AND NEW.status IN ('posted', 'voided', 'expired')
        AND (to_jsonb(NEW) - 'status') = (to_jsonb(OLD) - 'status')
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'UPDATE of transfer % (% %) is refused: only a pending hold may become '
        'posted, voided or expired, once', OLD.id, OLD.phase, OLD.status
        USING ERRCODE = 'CL090';
END
$$;

-- Accounts are never deleted (entries name them); only closed_at may be set, once.
CREATE FUNCTION ledger_accounts_guard_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.closed_at IS NULL AND NEW.closed_at IS NOT NULL
        AND (to_jsonb(NEW) - 'closed_at') = (to_jsonb(OLD) - 'closed_at')
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'UPDATE of account % is refused: only closing it is allowed', OLD.id
        USING ERRCODE = 'CL090';
END
$$;

CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_entries_no_truncate BEFORE TRUNCATE ON ledger_entries
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();

CREATE TRIGGER transfers_guard_update BEFORE UPDATE ON transfers
    FOR EACH ROW EXECUTE FUNCTION ledger_transfers_guard_update();
CREATE TRIGGER transfers_no_delete BEFORE DELETE ON transfers
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER transfers_no_truncate BEFORE TRUNCATE ON transfers
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();

CREATE TRIGGER transfer_ids_append_only BEFORE UPDATE OR DELETE ON transfer_ids
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER transfer_ids_no_truncate BEFORE TRUNCATE ON transfer_ids
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();

CREATE TRIGGER accounts_guard_update BEFORE UPDATE ON accounts
    FOR EACH ROW EXECUTE FUNCTION ledger_accounts_guard_update();
CREATE TRIGGER accounts_no_delete BEFORE DELETE ON accounts
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER account_balances_no_delete BEFORE DELETE ON account_balances
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
"""

# Monthly partitions, created ahead of need. No DEFAULT partition: a row that lands in
# one can never be moved out (moving means DELETE, which the triggers refuse), and it
# blocks creating the proper partition later. Instead this function keeps a horizon of
# months ready and reconciliation raises a violation long before the horizon runs out.
PARTITIONS = """
CREATE FUNCTION ledger__partition_horizon(p_months_ahead integer)
RETURNS TABLE (parent text, partition text, month date) LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF p_months_ahead IS NULL OR p_months_ahead NOT BETWEEN 0 AND 120 THEN
        RAISE EXCEPTION 'months ahead must be between 0 and 120, got %', p_months_ahead
            USING ERRCODE = 'CL040';
    END IF;
    RETURN QUERY
    SELECT t.parent, format('%s_y%sm%s', t.parent, to_char(m.month, 'YYYY'),
                            to_char(m.month, 'MM')), m.month
    FROM unnest(ARRAY['transfers', 'ledger_entries']) AS t(parent)
    CROSS JOIN LATERAL (
        SELECT (date_trunc('month', now() AT TIME ZONE 'UTC')
                + make_interval(months => i))::date AS month
        FROM generate_series(0, p_months_ahead) AS i
    ) m
    ORDER BY m.month, t.parent;
END
$$;

-- Partitions missing from the current month to p_months_ahead months after it.
CREATE FUNCTION ledger_missing_partitions(p_months_ahead integer) RETURNS SETOF text
LANGUAGE sql STABLE AS $$
    SELECT h.partition FROM ledger__partition_horizon(p_months_ahead) h
    WHERE to_regclass(h.partition) IS NULL
$$;

-- Create the missing ones; safe to call at any time, from any number of jobs.
CREATE FUNCTION ledger_ensure_partitions(p_months_ahead integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    h record;
    v_created integer := 0;
BEGIN
    FOR h IN SELECT * FROM ledger__partition_horizon(p_months_ahead) LOOP
        CONTINUE WHEN to_regclass(h.partition) IS NOT NULL;
        EXECUTE format(
            'CREATE TABLE IF NOT EXISTS %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
            h.partition, h.parent,
            h.month::timestamp AT TIME ZONE 'UTC',
            (h.month + interval '1 month')::timestamp AT TIME ZONE 'UTC');
        -- Statement triggers are not inherited: refuse TRUNCATE on the partition too.
        EXECUTE format(
            'CREATE TRIGGER %I BEFORE TRUNCATE ON %I '
            'FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change()',
            h.partition || '_no_truncate', h.partition);
        v_created := v_created + 1;
    END LOOP;
    RETURN v_created;
END
$$;
"""


def upgrade() -> None:
    op.execute(TABLES)
    op.execute(IMMUTABILITY)
    op.execute(PARTITIONS)
    op.execute(f"SELECT ledger_ensure_partitions({INITIAL_MONTHS_AHEAD})")


def downgrade() -> None:
    op.execute(
        """
        DROP TABLE ledger_entries, transfers, transfer_ids, account_balances, accounts;
        DROP FUNCTION ledger_ensure_partitions(integer);
        DROP FUNCTION ledger_missing_partitions(integer);
        DROP FUNCTION ledger__partition_horizon(integer);
        DROP FUNCTION ledger_accounts_guard_update();
        DROP FUNCTION ledger_transfers_guard_update();
        DROP FUNCTION ledger_refuse_change();
        """
    )
