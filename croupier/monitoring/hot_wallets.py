"""The payments hot wallet, as reconciliation must see it.

Payments books the hot wallet in one system-owned ``hot_wallet`` account per currency and
posts a withdrawal's payout (and the gas it burnt) only when the withdrawal settles,
after the send is final. Between broadcast and settlement the chain has already paid
what the ledger still holds. So, per chain, the hot wallet is:

- its addresses: every ``sender`` of ``hot_wallet_sends`` on that chain (the sender
  workflow owns one address; a rotated index adds one);
- what is in flight out of it: for sends whose withdrawal has not settled yet
  (``sending``/``broadcast``), the amount paid out in the withdrawal's currency, and in
  the chain's gas currency the most any attempt of the send could burn (Ethereum:
  ``gas_limit * max_fee_per_gas``; Bitcoin: the signed fee, fixed by the transaction;
  the largest over its replacements).

The chain balance must then lie in ``[ledger - in flight, ledger]``; ``croupier.monitoring
.wallets`` applies it together with the account's own pending holds.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, text

from croupier.core.money import Currency

# Hot wallet addresses per chain: a handful over the life of the casino.
MAX_HOT_ADDRESSES = 16
# Gas is paid in the chain's native coin.
GAS_CURRENCY = {"ethereum": Currency.ETH, "bitcoin": Currency.BTC}


@dataclass(frozen=True, slots=True)
class HotWallet:
    """One currency of the payments hot wallet: where it lives and what is in flight."""

    currency: Currency
    addresses: tuple[str, ...]
    in_flight_out: int


_ADDRESSES = text(
    """
    SELECT DISTINCT sender FROM hot_wallet_sends WHERE chain = :chain ORDER BY sender
    LIMIT :limit
    """
)

_PAYOUTS_IN_FLIGHT = text(
    """
    SELECT w.currency, sum(w.amount) AS amount
    FROM hot_wallet_sends s JOIN withdrawals w ON w.id = s.withdrawal_id
    WHERE s.chain = :chain AND w.status IN ('sending', 'broadcast')
    GROUP BY w.currency
    """
)

# Each chain's signed transactions live in its own table; a send has rows in one only.
_GAS_IN_FLIGHT = text(
    """
    SELECT coalesce(sum(worst.gas), 0) FROM (
        SELECT max(t.gas) AS gas
        FROM hot_wallet_sends s
        JOIN withdrawals w ON w.id = s.withdrawal_id
        JOIN (
            SELECT withdrawal_id, gas_limit * max_fee_per_gas AS gas
            FROM hot_wallet_transactions
            UNION ALL
            SELECT withdrawal_id, fee_sat FROM btc_hot_wallet_transactions
        ) t ON t.withdrawal_id = s.withdrawal_id
        WHERE s.chain = :chain AND w.status IN ('sending', 'broadcast')
        GROUP BY s.withdrawal_id
    ) worst
    """
)


def hot_wallets(conn: Connection, chains: Iterable[str]) -> list[HotWallet]:
    """The hot wallet of every chain that has sent anything, one entry per currency."""
    wallets = []
    for chain in sorted(chains):
        addresses = tuple(
            row.sender
            for row in conn.execute(_ADDRESSES, {"chain": chain, "limit": MAX_HOT_ADDRESSES + 1})
        )
        assert len(addresses) <= MAX_HOT_ADDRESSES, f"more than {MAX_HOT_ADDRESSES} hot addresses"
        if not addresses:
            continue
        out = {
            Currency(row.currency): int(row.amount)
            for row in conn.execute(_PAYOUTS_IN_FLIGHT, {"chain": chain})
        }
        gas_currency = GAS_CURRENCY[chain]
        gas = int(conn.execute(_GAS_IN_FLIGHT, {"chain": chain}).scalar_one())
        out[gas_currency] = out.get(gas_currency, 0) + gas
        for currency in Currency:
            if currency.chain == chain:
                wallets.append(HotWallet(currency, addresses, out.get(currency, 0)))
    return wallets
