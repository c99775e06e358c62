"""monitoring: alerts, the withdrawal circuit breaker, drift checkpoints, reconciliation runs

Revision ID: 0001_monitoring
Revises:
Create Date: 2025-01-01

See ``croupier/monitoring/tables.py`` for what each table holds. The breaker's history
(``circuit_breaker_events``) is append-only, enforced here as the ledger enforces its own.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0001_monitoring"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("monitoring",)
depends_on: str | Sequence[str] | None = None

TABLES = """
CREATE TABLE alerts (
    id bigint GENERATED ALWAYS AS IDENTITY,
    kind text NOT NULL,
    severity text NOT NULL,
    message text NOT NULL,
    details jsonb NOT NULL DEFAULT '{}',
    dedup_key text,
    occurrences integer NOT NULL DEFAULT 1,
    first_seen_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    acked_at timestamptz,
    acked_by text,
    ack_note text,
    CONSTRAINT pk_alerts PRIMARY KEY (id),
    CONSTRAINT ck_alerts_kind CHECK (kind ~ '^[a-z][a-z0-9_]*$' AND length(kind) <= 64),
    CONSTRAINT ck_alerts_severity CHECK (severity IN ('info', 'warning', 'critical')),
    CONSTRAINT ck_alerts_message CHECK (length(message) BETWEEN 1 AND 2000),
    CONSTRAINT ck_alerts_details_object CHECK (jsonb_typeof(details) = 'object'),
    CONSTRAINT ck_alerts_dedup_key CHECK (length(dedup_key) BETWEEN 1 AND 255),
    CONSTRAINT ck_alerts_occurrences CHECK (occurrences >= 1),
    CONSTRAINT ck_alerts_ack_complete CHECK ((acked_at IS NULL) = (acked_by IS NULL)),
    CONSTRAINT ck_alerts_ack_note CHECK (length(ack_note) <= 2000)
);
-- At most one OPEN alert per (kind, dedup_key): raise_alert upserts on it.
CREATE UNIQUE INDEX uq_alerts_open_kind_dedup_key ON alerts (kind, dedup_key)
    WHERE acked_at IS NULL AND dedup_key IS NOT NULL;
CREATE INDEX ix_alerts_open_id ON alerts (id) WHERE acked_at IS NULL;

CREATE TABLE circuit_breakers (
    name text NOT NULL,
    state text NOT NULL DEFAULT 'closed',
    reason text,
    tripped_at timestamptz,
    tripped_by text,
    resumed_at timestamptz,
    resumed_by text,
    resume_reason text,
    CONSTRAINT pk_circuit_breakers PRIMARY KEY (name),
    CONSTRAINT ck_circuit_breakers_name
        CHECK (name ~ '^[a-z][a-z0-9_]*$' AND length(name) <= 64),
    CONSTRAINT ck_circuit_breakers_state CHECK (state IN ('closed', 'tripped')),
    CONSTRAINT ck_circuit_breakers_tripped_complete CHECK (
        (state = 'tripped') = (tripped_at IS NOT NULL AND tripped_by IS NOT NULL
                               AND reason IS NOT NULL)
    ),
    CONSTRAINT ck_circuit_breakers_resume_complete CHECK (
        (resumed_at IS NULL) = (resumed_by IS NULL)
        AND (resumed_at IS NULL) = (resume_reason IS NULL)
    )
);
INSERT INTO circuit_breakers (name) VALUES ('withdrawals');

CREATE TABLE circuit_breaker_events (
    id bigint GENERATED ALWAYS AS IDENTITY,
    name text NOT NULL,
    event text NOT NULL,
    actor text NOT NULL,
    reason text NOT NULL,
    details jsonb NOT NULL DEFAULT '{}',
    at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT pk_circuit_breaker_events PRIMARY KEY (id),
    CONSTRAINT fk_circuit_breaker_events_name_circuit_breakers
        FOREIGN KEY (name) REFERENCES circuit_breakers (name),
    CONSTRAINT ck_circuit_breaker_events_event CHECK (event IN ('tripped', 'resumed')),
    CONSTRAINT ck_circuit_breaker_events_reason CHECK (length(reason) BETWEEN 1 AND 2000)
);
CREATE INDEX ix_circuit_breaker_events_name_id ON circuit_breaker_events (name, id);

CREATE FUNCTION monitoring_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% on % is refused: it is an audit trail', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'CL090';
END
$$;
CREATE TRIGGER circuit_breaker_events_append_only
    BEFORE UPDATE OR DELETE ON circuit_breaker_events
    FOR EACH ROW EXECUTE FUNCTION monitoring_refuse_change();

CREATE TABLE withdrawal_velocity (
    withdrawal_id text NOT NULL,
    player_id text NOT NULL,
    currency text NOT NULL,
    amount numeric(78, 0) NOT NULL,
    player_since timestamptz NOT NULL,
    requested_at timestamptz NOT NULL,
    CONSTRAINT pk_withdrawal_velocity PRIMARY KEY (withdrawal_id),
    CONSTRAINT ck_withdrawal_velocity_amount_positive CHECK (amount > 0)
);
CREATE INDEX ix_withdrawal_velocity_requested_at ON withdrawal_velocity (requested_at);

CREATE TABLE house_balance_checkpoints (
    currency text NOT NULL,
    cut_at timestamptz NOT NULL,
    balance numeric(78, 0) NOT NULL,
    ggr numeric(78, 0),
    drift numeric(78, 0),
    CONSTRAINT pk_house_balance_checkpoints PRIMARY KEY (currency, cut_at),
    CONSTRAINT ck_house_balance_checkpoints_window CHECK ((ggr IS NULL) = (drift IS NULL))
);

CREATE TABLE wallet_observations (
    account_id bigint NOT NULL,
    kind text NOT NULL,
    currency text NOT NULL,
    address text NOT NULL,
    ledger_posted numeric(78, 0) NOT NULL,
    ledger_pending_out numeric(78, 0) NOT NULL,
    ledger_pending_in numeric(78, 0) NOT NULL,
    chain_balance numeric(78, 0) NOT NULL,
    matches boolean NOT NULL,
    observed_at timestamptz NOT NULL,
    CONSTRAINT pk_wallet_observations PRIMARY KEY (account_id)
);

CREATE TABLE reconciliation_runs (
    id bigint GENERATED ALWAYS AS IDENTITY,
    run_key text NOT NULL,
    finished_at timestamptz NOT NULL DEFAULT now(),
    ok boolean NOT NULL,
    ledger_violations integer NOT NULL,
    wallet_mismatches integer NOT NULL,
    house_drifts integer NOT NULL,
    biased_games integer NOT NULL,
    report jsonb NOT NULL,
    CONSTRAINT pk_reconciliation_runs PRIMARY KEY (id),
    CONSTRAINT uq_reconciliation_runs_run_key UNIQUE (run_key),
    CONSTRAINT ck_reconciliation_runs_run_key CHECK (length(run_key) BETWEEN 1 AND 255)
);
"""


def upgrade() -> None:
    op.execute(TABLES)


def downgrade() -> None:
    op.execute(
        """
        DROP TABLE reconciliation_runs, wallet_observations, house_balance_checkpoints,
            withdrawal_velocity, circuit_breaker_events, circuit_breakers, alerts;
        DROP FUNCTION monitoring_refuse_change();
        """
    )
