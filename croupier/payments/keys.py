"""Business keys: one deterministic name per thing, used as workflow id, transfer id and
database key alike, so a retry, a rescan or a duplicate request can never act twice."""

from __future__ import annotations

import uuid

from croupier.chains.base import NATIVE_TRANSFER_LOG_INDEX
from croupier.core.errors import InvalidInput
from croupier.core.ids import business_key

# Short chain names in keys: ``deposit-eth-...`` reads better than ``deposit-ethereum-...``.
CHAIN_TAGS = {"ethereum": "eth", "bitcoin": "btc"}
# The namespace of withdrawal ids derived from (player, Idempotency-Key).
_WITHDRAWAL_NAMESPACE = uuid.UUID("6f1d2a3e-52c4-4c1b-9a0e-0c7f3f0b7a11")
_WITHDRAWAL_LEGS = frozenset({"hold", "post", "void", "payout", "fee", "gas"})


def chain_tag(chain: str) -> str:
    try:
        return CHAIN_TAGS[chain]
    except KeyError:
        known = ", ".join(sorted(CHAIN_TAGS))
        raise InvalidInput(f"unknown chain {chain!r}; expected one of {known}") from None


def deposit_id(chain: str, tx_hash: str, log_index: int) -> str:
    """``deposit-eth-<tx>-<log index>``; a native ETH transfer (log index -1) ends in
    ``native``, ETH moved by the transaction's k-th internal call in ``internal<k>``."""
    if log_index == NATIVE_TRANSFER_LOG_INDEX:
        position = "native"
    elif log_index < NATIVE_TRANSFER_LOG_INDEX:
        position = f"internal{NATIVE_TRANSFER_LOG_INDEX - log_index}"
    else:
        position = str(log_index)
    return business_key("deposit", chain_tag(chain), tx_hash.lower(), position)


def scanner_workflow_id(chain: str) -> str:
    return business_key("deposit-scanner", chain_tag(chain))


def deposit_address_workflow_id(user_id: uuid.UUID, chain: str) -> str:
    return business_key("deposit-address", str(user_id), chain_tag(chain))


def withdrawal_id_for(user_id: uuid.UUID, idempotency_key: str) -> uuid.UUID:
    """The withdrawal a player's request names: the same key always names the same one,
    so a retried request finds the first withdrawal even if the API lost its record."""
    return uuid.uuid5(_WITHDRAWAL_NAMESPACE, f"{user_id}:{idempotency_key}")


def withdrawal_workflow_id(withdrawal_id: uuid.UUID) -> str:
    return business_key("withdrawal", str(withdrawal_id))


def sender_workflow_id(chain: str, address: str) -> str:
    return business_key("hot-wallet", chain_tag(chain), address)


def withdrawal_transfer_id(withdrawal_id: uuid.UUID, leg: str) -> str:
    """Ledger transfer ids of a withdrawal: ``-hold``, ``-post``, ``-void``, ``-payout``,
    ``-fee``, ``-gas``."""
    assert leg in _WITHDRAWAL_LEGS, f"unknown withdrawal leg {leg!r}"
    return business_key("withdrawal", str(withdrawal_id), leg)
