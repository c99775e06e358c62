"""betting: seed pairs, bet keys, bets (monthly partitions), their guards

Revision ID: 0001_betting
Revises:
Create Date: 2025-01-01

See ``croupier/betting/tables.py`` for the meaning of each column. No foreign keys to
``users`` or the ledger: a bet insert would take a KEY SHARE lock on the referenced
row on every bet, and the settlement code writes the bet in the same transaction as
its transfers (``bet-<id>-stake`` / ``-payout``), which is the link that matters.

The database guards what the code promises:

- a revealed server seed must hash to the commitment shown before play;
- one unrevealed seed pair per (player, currency);
- a (seed pair, nonce) is used by one bet only (``bet_keys``, unpartitioned);
- a settled bet is final: the only later change is writing its revealed server seed,
  and no bet is ever deleted.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0001_betting"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("betting",)
depends_on: str | Sequence[str] | None = None

INITIAL_MONTHS_AHEAD = 6

TABLES = """
CREATE TABLE seed_pairs (
    id uuid NOT NULL,
    user_id uuid NOT NULL,
    currency text NOT NULL,
    server_seed_hash text NOT NULL,
    server_seed_sealed bytea NOT NULL,
    server_seed text,
    client_seed text NOT NULL,
    bets bigint,
    created_by_rotation uuid,
    revealed_by_rotation uuid,
    created_at timestamptz NOT NULL,
    revealed_at timestamptz,
    CONSTRAINT pk_seed_pairs PRIMARY KEY (id),
    CONSTRAINT uq_seed_pairs_created_by_rotation UNIQUE (created_by_rotation),
    CONSTRAINT uq_seed_pairs_revealed_by_rotation UNIQUE (revealed_by_rotation),
    CONSTRAINT ck_seed_pairs_hash CHECK (server_seed_hash ~ '^[0-9a-f]{64}$'),
    CONSTRAINT ck_seed_pairs_client_seed
        CHECK (client_seed ~ '^[!-~]+$' AND length(client_seed) <= 64),
    CONSTRAINT ck_seed_pairs_revealed_together CHECK (
        (revealed_at IS NULL) = (server_seed IS NULL)
        AND (revealed_at IS NULL) = (bets IS NULL)
        AND (revealed_at IS NULL) = (revealed_by_rotation IS NULL)
    ),
    CONSTRAINT ck_seed_pairs_reveal_keeps_promise CHECK (
        server_seed IS NULL
        OR server_seed_hash = encode(sha256(convert_to(server_seed, 'UTF8')), 'hex')
    ),
    CONSTRAINT ck_seed_pairs_bets CHECK (bets IS NULL OR bets >= 0)
);

CREATE UNIQUE INDEX uq_seed_pairs_active ON seed_pairs (user_id, currency)
    WHERE revealed_at IS NULL;
CREATE INDEX ix_seed_pairs_user_id_created_at ON seed_pairs (user_id, created_at);

CREATE TABLE bet_keys (
    id uuid NOT NULL,
    created_at timestamptz NOT NULL,
    seed_pair_id uuid,
    nonce bigint,
    CONSTRAINT pk_bet_keys PRIMARY KEY (id),
    CONSTRAINT uq_bet_keys_seed_pair_id_nonce UNIQUE (seed_pair_id, nonce),
    CONSTRAINT ck_bet_keys_seed_and_nonce CHECK ((seed_pair_id IS NULL) = (nonce IS NULL)),
    CONSTRAINT ck_bet_keys_nonce CHECK (nonce >= 0)
);

CREATE TABLE bets (
    id uuid NOT NULL,
    user_id uuid NOT NULL,
    game text NOT NULL,
    currency text NOT NULL,
    amount numeric(78, 0) NOT NULL,
    params jsonb NOT NULL,
    status text NOT NULL,
    outcome jsonb,
    multiplier text,
    payout numeric(78, 0),
    seed_pair_id uuid,
    server_seed_hash text,
    server_seed text,
    client_seed text,
    nonce bigint,
    round_id text,
    created_at timestamptz NOT NULL,
    settled_at timestamptz,
    CONSTRAINT pk_bets PRIMARY KEY (id, created_at),
    CONSTRAINT ck_bets_game CHECK (game ~ '^[a-z][a-z0-9_]*$' AND length(game) <= 32),
    CONSTRAINT ck_bets_currency CHECK (currency ~ '^[A-Z][A-Z0-9]+$' AND length(currency) <= 10),
    CONSTRAINT ck_bets_amount_positive CHECK (amount > 0),
    CONSTRAINT ck_bets_params_object CHECK (jsonb_typeof(params) = 'object'),
    CONSTRAINT ck_bets_status CHECK (
        (status = 'open' AND outcome IS NULL AND multiplier IS NULL AND payout IS NULL
            AND settled_at IS NULL)
        OR (status = 'settled' AND jsonb_typeof(outcome) = 'object'
            AND multiplier ~ '^[0-9]+(/[0-9]+)?$' AND payout >= 0 AND settled_at IS NOT NULL)
    ),
    CONSTRAINT ck_bets_seeded_or_round CHECK (
        (seed_pair_id IS NOT NULL AND server_seed_hash IS NOT NULL AND client_seed IS NOT NULL
            AND nonce IS NOT NULL AND round_id IS NULL)
        OR (seed_pair_id IS NULL AND server_seed_hash IS NULL AND client_seed IS NULL
            AND nonce IS NULL AND server_seed IS NULL AND round_id IS NOT NULL)
    ),
    CONSTRAINT ck_bets_reveal_keeps_promise CHECK (
        server_seed IS NULL
        OR server_seed_hash = encode(sha256(convert_to(server_seed, 'UTF8')), 'hex')
    )
) PARTITION BY RANGE (created_at);

CREATE INDEX ix_bets_user_id_created_at ON bets (user_id, created_at, id);
CREATE INDEX ix_bets_seed_pair_id ON bets (seed_pair_id) WHERE seed_pair_id IS NOT NULL;
CREATE INDEX ix_bets_round_id ON bets (round_id) WHERE round_id IS NOT NULL;
"""

# Settled bets are final; the error uses the ledger's immutability SQLSTATE (CL090).
GUARDS = """
CREATE FUNCTION betting_bets_guard_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Settling an open bet: the result columns (and the final parameters) are written.
    IF OLD.status = 'open' AND NEW.status = 'settled'
        AND (to_jsonb(NEW) - ARRAY['status', 'outcome', 'multiplier', 'payout', 'settled_at',
                                   'params', 'server_seed'])
          = (to_jsonb(OLD) - ARRAY['status', 'outcome', 'multiplier', 'payout', 'settled_at',
                                   'params', 'server_seed'])
        AND OLD.server_seed IS NOT DISTINCT FROM NEW.server_seed
    THEN
        RETURN NEW;
    END IF;
    -- Revealing the server seed once its pair is rotated out.
    IF OLD.server_seed IS NULL AND NEW.server_seed IS NOT NULL
        AND (to_jsonb(NEW) - 'server_seed') = (to_jsonb(OLD) - 'server_seed')
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'UPDATE of bet % (%) is refused: a bet is settled once and only its '
        'revealed server seed is added later', OLD.id, OLD.status
        USING ERRCODE = 'CL090';
END
$$;

CREATE FUNCTION betting_refuse_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% on % is refused: bets and seed pairs are kept forever',
        TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'CL090';
END
$$;

CREATE TRIGGER bets_guard_update BEFORE UPDATE ON bets
    FOR EACH ROW EXECUTE FUNCTION betting_bets_guard_update();
CREATE TRIGGER bets_no_delete BEFORE DELETE ON bets
    FOR EACH ROW EXECUTE FUNCTION betting_refuse_delete();
CREATE TRIGGER bets_no_truncate BEFORE TRUNCATE ON bets
    FOR EACH STATEMENT EXECUTE FUNCTION betting_refuse_delete();
CREATE TRIGGER bet_keys_no_change BEFORE UPDATE OR DELETE ON bet_keys
    FOR EACH ROW EXECUTE FUNCTION betting_refuse_delete();
CREATE TRIGGER seed_pairs_no_delete BEFORE DELETE ON seed_pairs
    FOR EACH ROW EXECUTE FUNCTION betting_refuse_delete();
"""

# Monthly partitions of bets, kept ahead of need like the ledger's (no DEFAULT partition:
# a bet in a month without one fails loudly instead of landing where it cannot leave).
PARTITIONS = """
CREATE FUNCTION betting_missing_partitions(p_months_ahead integer) RETURNS SETOF text
LANGUAGE sql STABLE AS $$
    SELECT format('bets_y%sm%s', to_char(m, 'YYYY'), to_char(m, 'MM'))
    FROM generate_series(0, p_months_ahead) AS i,
         LATERAL (SELECT (date_trunc('month', now() AT TIME ZONE 'UTC')
                          + make_interval(months => i))::date AS m) months
    WHERE to_regclass(format('bets_y%sm%s', to_char(m, 'YYYY'), to_char(m, 'MM'))) IS NULL
    ORDER BY m
$$;

CREATE FUNCTION betting_ensure_partitions(p_months_ahead integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    v_month date;
    v_name text;
    v_created integer := 0;
BEGIN
    IF p_months_ahead IS NULL OR p_months_ahead NOT BETWEEN 0 AND 120 THEN
        RAISE EXCEPTION 'months ahead must be between 0 and 120, got %', p_months_ahead
            USING ERRCODE = '22023';
    END IF;
    FOR i IN 0..p_months_ahead LOOP
        v_month := (date_trunc('month', now() AT TIME ZONE 'UTC')
                    + make_interval(months => i))::date;
        v_name := format('bets_y%sm%s', to_char(v_month, 'YYYY'), to_char(v_month, 'MM'));
        CONTINUE WHEN to_regclass(v_name) IS NOT NULL;
        EXECUTE format(
            'CREATE TABLE IF NOT EXISTS %I PARTITION OF bets FOR VALUES FROM (%L) TO (%L)',
            v_name, v_month::timestamp AT TIME ZONE 'UTC',
            (v_month + interval '1 month')::timestamp AT TIME ZONE 'UTC');
        EXECUTE format(
            'CREATE TRIGGER %I BEFORE TRUNCATE ON %I '
            'FOR EACH STATEMENT EXECUTE FUNCTION betting_refuse_delete()',
            v_name || '_no_truncate', v_name);
        v_created := v_created + 1;
    END LOOP;
    RETURN v_created;
END
$$;
"""


def upgrade() -> None:
    op.execute(TABLES)
    op.execute(GUARDS)
    op.execute(PARTITIONS)
    op.execute(f"SELECT betting_ensure_partitions({INITIAL_MONTHS_AHEAD})")


def downgrade() -> None:
    op.execute(
        """
        DROP TABLE bets, bet_keys, seed_pairs;
        DROP FUNCTION betting_ensure_partitions(integer);
        DROP FUNCTION betting_missing_partitions(integer);
        DROP FUNCTION betting_refuse_delete();
        DROP FUNCTION betting_bets_guard_update();
        """
    )
