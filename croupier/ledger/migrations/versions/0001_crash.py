"""crash: stored hash chains, and rounds bound to their crash point

Revision ID: 0001_crash
Revises:
Create Date: 2025-01-01

See ``croupier/crash/tables.py`` for what each table holds. Game hashes are secrets
until their round settles; only the terminating hash and the salt of a chain are public.
Rounds are few (one every ten seconds or so: three million a year) and bounded by the
stored chains, so these tables are not partitioned. A round's bets live in betting's
``bets`` table (``round_id`` = ``crash-<chain>-<round>``).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0001_crash"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("crash",)
# Settlement writes the bets of a round to betting's ``bets`` table in its transaction.
depends_on: str | Sequence[str] | None = ("0001_ledger", "0001_betting")


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE crash_chains (
            id bigint GENERATED ALWAYS AS IDENTITY,
            terminating_hash text NOT NULL,
            salt text NOT NULL,
            length integer NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT pk_crash_chains PRIMARY KEY (id),
            CONSTRAINT uq_crash_chains_terminating_hash UNIQUE (terminating_hash),
            CONSTRAINT ck_crash_chains_terminating_hash
                CHECK (length(terminating_hash) = 64 AND terminating_hash ~ '^[0-9a-f]+$'),
            CONSTRAINT ck_crash_chains_salt CHECK (length(salt) BETWEEN 1 AND 128),
            CONSTRAINT ck_crash_chains_length CHECK (length BETWEEN 1 AND 1000000)
        );

        CREATE TABLE crash_chain_hashes (
            chain_id bigint NOT NULL,
            round_number integer NOT NULL,
            game_hash text NOT NULL,
            CONSTRAINT pk_crash_chain_hashes PRIMARY KEY (chain_id, round_number),
            CONSTRAINT fk_crash_chain_hashes_chain_id_crash_chains
                FOREIGN KEY (chain_id) REFERENCES crash_chains (id),
            CONSTRAINT ck_crash_chain_hashes_round_number CHECK (round_number >= 1),
            CONSTRAINT ck_crash_chain_hashes_game_hash
                CHECK (length(game_hash) = 64 AND game_hash ~ '^[0-9a-f]+$')
        );

        CREATE TABLE crash_rounds (
            chain_id bigint NOT NULL,
            round_number integer NOT NULL,
            game_hash text NOT NULL,
            crash_point_h bigint NOT NULL,
            max_multiplier_h bigint NOT NULL,
            status text NOT NULL,
            opened_at timestamptz NOT NULL DEFAULT now(),
            started_at timestamptz,
            ended_at timestamptz,
            settled_at timestamptz,
            bet_count integer,
            CONSTRAINT pk_crash_rounds PRIMARY KEY (chain_id, round_number),
            CONSTRAINT fk_crash_rounds_chain_hash
                FOREIGN KEY (chain_id, round_number)
                REFERENCES crash_chain_hashes (chain_id, round_number),
            CONSTRAINT ck_crash_rounds_crash_point CHECK (crash_point_h >= 100),
            CONSTRAINT ck_crash_rounds_max_multiplier CHECK (max_multiplier_h > 100),
            CONSTRAINT ck_crash_rounds_status CHECK (status IN ('open', 'settled')),
            CONSTRAINT ck_crash_rounds_settled_means_complete CHECK (
                (status = 'open') = (settled_at IS NULL)
                AND (status = 'open'
                     OR (started_at IS NOT NULL AND ended_at IS NOT NULL
                         AND bet_count IS NOT NULL))
            )
        );
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE crash_rounds, crash_chain_hashes, crash_chains")
