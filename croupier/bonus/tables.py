"""Table definitions of the bonus domain; migration ``0001_bonus`` creates them.

- ``bonuses``: one row per claimed bonus (id = the Bonus workflow's business key), with
  the wagering terms it was claimed under, its progress and how it ended. At most one
  open bonus per player and currency (a partial unique index): the player's bonus
  account then always holds exactly the open bonus's money.
- ``bonus_claims``: who claimed what, with the identity, device fingerprint and
  deposit address of welcome claims under unique indexes, so one person gets one
  welcome bonus even across accounts and racing requests.
- ``bonus_wagering``: one row per bet placed while a bonus was being wagered, keyed by
  the bet id (a bet counts once): how its stake and payout split between cash and
  bonus, and what it contributed (nothing for a hedge). A bet staked before it is
  played (mines, crash) has its row from the stake on, completed when it settles
  (``settled_at``, migration ``0003_bonus_staked_bets``).
- ``reward_periods``: one row per player, currency and reward period they played in
  (migration ``0002_bonus_rewards``): the cash volume and net loss of the period, the
  VIP level it reached, and the cashback and rakeback paid for it. The row is written
  in the payout's transaction, so a period is paid once; lifetime volume (the VIP
  level) is the sum of a player's rows.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    Table,
    Text,
    Uuid,
)
from sqlalchemy.dialects.postgresql import JSONB

from croupier.ledger.schema import MinorUnits

metadata = MetaData()

bonuses = Table(
    "bonuses",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("user_id", Uuid, nullable=False),
    Column("currency", Text, nullable=False),
    Column("offer", Text, nullable=False),
    Column("kind", Text, nullable=False),
    # pending (waiting for its deposit) | active | wagered | released | forfeited | expired
    Column("status", Text, nullable=False),
    # Granted; 0 while pending.
    Column("amount", MinorUnits, nullable=False),
    Column("wagering_required", MinorUnits, nullable=False),
    Column("wagered", MinorUnits, nullable=False),
    Column("multiple", Integer, nullable=False),
    Column("max_bet", MinorUnits, nullable=False),
    Column("max_conversion", MinorUnits),
    Column("game_weights", JSONB, nullable=False),
    Column("expires_after_s", Integer, nullable=False),
    # The deposit that qualified a deposit match; a deposit qualifies one (unique, 0004).
    Column("deposit_id", Text),
    Column("claimed_at", DateTime(timezone=True), nullable=False),
    Column("activated_at", DateTime(timezone=True)),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("closed_at", DateTime(timezone=True)),
    Column("released", MinorUnits),
    Column("returned", MinorUnits),
)

bonus_claims = Table(
    "bonus_claims",
    metadata,
    Column("bonus_id", Uuid, ForeignKey("bonuses.id"), primary_key=True),
    Column("user_id", Uuid, nullable=False),
    Column("offer", Text, nullable=False),
    Column("welcome", Boolean, nullable=False),
    # sha256 of the verified identity (compliance's ``identity_key``), when verified.
    Column("identity_key", Text),
    Column("device_fingerprint", Text),
    # Where the qualifying deposit came from (a deposit match's).
    Column("deposit_from_address", Text),
    Column("claimed_at", DateTime(timezone=True), nullable=False),
)

bonus_wagering = Table(
    "bonus_wagering",
    metadata,
    Column("bet_id", Uuid, primary_key=True),
    Column("bonus_id", Uuid, ForeignKey("bonuses.id"), nullable=False),
    Column("game", Text, nullable=False),
    Column("params", JSONB, nullable=False),
    Column("stake", MinorUnits, nullable=False),
    Column("stake_bonus", MinorUnits, nullable=False),
    Column("payout", MinorUnits, nullable=False),
    Column("payout_bonus", MinorUnits, nullable=False),
    Column("contribution", MinorUnits, nullable=False),
    Column("hedge", Boolean, nullable=False),
    Column("placed_at", DateTime(timezone=True), nullable=False),
    # None while the bet is in play: payout, its bonus share and contribution are 0.
    Column("settled_at", DateTime(timezone=True)),
)

reward_periods = Table(
    "reward_periods",
    metadata,
    Column("user_id", Uuid, primary_key=True),
    Column("currency", Text, primary_key=True),
    Column("period_start", DateTime(timezone=True), primary_key=True),
    Column("period_end", DateTime(timezone=True), nullable=False),
    # Cash-funded stakes of the bets settled in the period (bonus-funded parts excluded).
    Column("wagered", MinorUnits, nullable=False),
    # Cash staked minus cash paid back; negative when the player won.
    Column("net_loss", MinorUnits, nullable=False),
    Column("vip_level", Integer, nullable=False),
    Column("rakeback_percent", Integer, nullable=False),
    Column("cashback", MinorUnits, nullable=False),
    Column("rakeback", MinorUnits, nullable=False),
    Column("paid_at", DateTime(timezone=True), nullable=False),
)
