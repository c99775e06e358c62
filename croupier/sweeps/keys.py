"""Business keys of treasury movements: workflow ids, movement ids, ledger transfer ids.

A movement's id is derived from the workflow run that opens it (and the address or
currency it concerns), so a retried activity opens the same movement; its hot-wallet
send id is the same UUID, so the Hot Wallet Sender dedupes a repeated request.
"""

from __future__ import annotations

import uuid

from croupier.core.ids import business_key
from croupier.core.money import Currency
from croupier.payments.keys import chain_tag

_MOVEMENT_NAMESPACE = uuid.UUID("0b6a5f6e-2f57-4c8e-8d0e-5d6c0a3e9b21")
_REFILL_NAMESPACE = uuid.UUID("5c1b0f3a-7e44-4d0a-b1a2-93f2c7d86e40")
_LEGS = frozenset({"hold", "fee-hold", "post", "void", "fee-void", "fee"})
# Gas is paid in the chain's native coin whatever moves.
NATIVE_CURRENCY = {"ethereum": Currency.ETH, "bitcoin": Currency.BTC}


def sweep_workflow_id(chain: str) -> str:
    return business_key("sweep", chain_tag(chain))


def consolidation_workflow_id(chain: str) -> str:
    return business_key("consolidation", chain_tag(chain))


def refill_workflow_id(refill_id: uuid.UUID) -> str:
    return business_key("refill", str(refill_id))


def refill_id_for(staff_id: uuid.UUID, idempotency_key: str) -> uuid.UUID:
    """The refill a staff request names: a retried request finds the first refill."""
    return uuid.uuid5(_REFILL_NAMESPACE, f"{staff_id}:{idempotency_key}")


def movement_uuid(run_key: str, *parts: str) -> uuid.UUID:
    """The UUID of the movement a workflow run opens for ``parts`` (kind, currency,
    address): stable across retries of the run's activities."""
    return uuid.uuid5(_MOVEMENT_NAMESPACE, ":".join((run_key, *parts)))


def movement_id(kind: str, chain: str, movement: uuid.UUID | str) -> str:
    """``<kind>-<chain>-<uuid>`` (``sweep-eth-...``, ``top_up-eth-...``), or for a
    refill's transaction ``refill-eth-<tx hash>``."""
    return business_key(kind, chain_tag(chain), str(movement))


def transfer_id(movement: str, leg: str) -> str:
    """Ledger transfer ids of a movement: ``-hold``, ``-fee-hold``, ``-post``, ``-void``,
    ``-fee-void``, ``-fee``."""
    assert leg in _LEGS, f"unknown movement leg {leg!r}"
    return f"{movement}-{leg}"
