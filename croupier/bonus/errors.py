"""Refusals of the bonus domain, each with its own stable code."""

from __future__ import annotations

from croupier.core.errors import Conflict, InvalidInput, NotFound


class BonusNotFound(NotFound):
    """No bonus has this id (or it belongs to another player)."""

    code = "bonus_not_found"


class UnknownOffer(NotFound):
    """No bonus offer has this code, or it is not offered in this currency."""

    code = "unknown_offer"


class BonusMaxBetExceeded(InvalidInput):
    """A stake above the active bonus's maximum bet, refused while wagering."""

    code = "bonus_max_bet_exceeded"


class BonusAlreadyOpen(Conflict):
    """The player already has an open bonus in this currency: one at a time."""

    code = "bonus_already_open"


class WelcomeBonusTaken(Conflict):
    """A welcome bonus was already claimed by this person (same account, verified
    identity, device or deposit address)."""

    code = "welcome_bonus_taken"


class BonusClaimCooldown(Conflict):
    """The last bonus claim was too recent."""

    code = "bonus_claim_cooldown"


class BonusNotOpen(Conflict):
    """The bonus has ended (released, forfeited or expired): nothing more can change."""

    code = "bonus_not_open"


class RewardPeriodOpen(InvalidInput):
    """Cashback and rakeback are paid for a period only once it has ended: paying part
    of one would pay its rest never (a period is paid once)."""

    code = "reward_period_open"
