"""The facts the treasury policies decide from, read from the ledger and the records.

- What approved, unsettled withdrawals still need from the hot wallet (amounts, and in
  the native coin the most their fees can be): a sweep never leaves less.
- What the ledger's hot wallet has available (posted, less holds going out).
- What the ledger holds at each deposit address: credited deposits, plus completed gas
  top-ups, less consolidations (in flight or done) and the fees they paid (or, in
  flight, may pay). Coins at an address that were never credited (pending deposits,
  dust) are not booked and never consolidated.

The per-address figure aggregates the credited deposits of the chain once per
consolidation run (a scan of ``deposits``); a casino with millions of deposits would
keep a running per-address balance instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import text

from croupier.core.money import Currency
from croupier.ledger.accounts import system_account
from croupier.ledger.balances import balance
from croupier.ledger.connections import Bind, single_statement, snapshot
from croupier.ledger.kinds import AccountKind
from croupier.payments.states import WithdrawalStatus
from croupier.treasury.consolidation import AddressHoldings

# Withdrawals approved and not yet settled: their coins must stay in the hot wallet.
UNSETTLED_WITHDRAWALS = (
    WithdrawalStatus.APPROVED,
    WithdrawalStatus.SENDING,
    WithdrawalStatus.BROADCAST,
)
MAX_CANDIDATE_ADDRESSES = 2000


@dataclass(frozen=True, slots=True)
class PendingPayouts:
    """Approved, unsettled withdrawals of one currency: their total and their number."""

    amount: int
    count: int


def pending_payouts(bind: Bind, currencies: list[Currency]) -> dict[Currency, PendingPayouts]:
    """Per currency, what approved withdrawals not yet settled will pay out."""
    with single_statement(bind) as conn:
        rows = conn.execute(
            text(
                """
                SELECT currency, coalesce(sum(amount), 0) AS amount, count(*) AS n
                FROM withdrawals
                WHERE status = ANY(:statuses) AND currency = ANY(:currencies)
                GROUP BY currency
                """
            ),
            {
                "statuses": [status.value for status in UNSETTLED_WITHDRAWALS],
                "currencies": [currency.value for currency in currencies],
            },
        ).all()
    found = {Currency(row.currency): PendingPayouts(int(row.amount), int(row.n)) for row in rows}
    return {currency: found.get(currency, PendingPayouts(0, 0)) for currency in currencies}


def reserved_for(
    currency: Currency,
    native: Currency,
    payouts: Mapping[Currency, PendingPayouts],
    worst_fee: Mapping[Currency, int],
) -> int:
    """What the hot wallet must keep of ``currency`` for pending payouts: their amounts,
    and in the native coin the most every pending send's fee can be."""
    reserved = payouts[currency].amount
    if currency is native:
        reserved += sum(worst_fee[c] * p.count for c, p in payouts.items())
    return reserved


def hot_wallet_available(bind: Bind, currency: Currency) -> int:
    """The ledger's hot wallet of ``currency``: posted, less pending holds going out."""
    account = system_account(bind, AccountKind.HOT_WALLET, currency)
    return balance(bind, account.id).available


_HOLDINGS = text(
    """
    WITH booked AS (
        SELECT address, currency, amount FROM deposits
        WHERE chain = :chain AND status = 'credited'
        UNION ALL
        SELECT to_address, currency, amount FROM treasury_movements
        WHERE chain = :chain AND kind = 'top_up' AND status = 'completed'
        UNION ALL
        SELECT from_address, currency, -amount FROM treasury_movements
        WHERE chain = :chain AND kind = 'consolidation' AND status IN ('held', 'completed')
        UNION ALL
        SELECT from_address, :native,
               -(CASE WHEN status = 'held' THEN fee_reserved ELSE coalesce(fee_paid, 0) END)
        FROM treasury_movements WHERE chain = :chain AND kind = 'consolidation'
    ), per_currency AS (
        SELECT address, currency, sum(amount) AS amount FROM booked
        GROUP BY address, currency HAVING sum(amount) > 0
    ), minimums AS (
        SELECT * FROM unnest(CAST(:currencies AS text[]), CAST(:minimums AS numeric[]))
            AS m(currency, minimum)
    ), candidates AS (
        SELECT p.address, max(p.amount / m.minimum) AS worth
        FROM per_currency p JOIN minimums m ON m.currency = p.currency
        WHERE p.amount >= m.minimum
          AND NOT EXISTS (
              SELECT 1 FROM treasury_movements t
              WHERE t.chain = :chain AND t.status = 'held'
                AND ((t.kind = 'consolidation' AND t.from_address = p.address)
                  OR (t.kind = 'top_up' AND t.to_address = p.address)))
        GROUP BY p.address
        ORDER BY worth DESC, p.address
        LIMIT :limit
    )
    SELECT c.address, a.hd_index, p.currency, p.amount, c.worth
    FROM candidates c
    JOIN per_currency p ON p.address = c.address
    JOIN deposit_addresses a ON a.chain = :chain AND a.address = c.address
    ORDER BY c.worth DESC, c.address, p.currency
    """
)


def address_holdings(
    bind: Bind,
    chain: str,
    *,
    native: Currency,
    minimums: Mapping[Currency, int],
    limit: int,
) -> list[AddressHoldings]:
    """Deposit addresses holding at least one currency's minimum, with every booked
    currency of each, the most worthwhile (largest multiple of a minimum) first. Addresses
    with a movement in flight are left out: one transaction per address at a time."""
    assert 1 <= limit <= MAX_CANDIDATE_ADDRESSES
    currencies = sorted(minimums)
    with snapshot(bind) as conn:
        rows = conn.execute(
            _HOLDINGS,
            {
                "chain": chain,
                "native": native.value,
                "currencies": [c.value for c in currencies],
                "minimums": [minimums[c] for c in currencies],
                "limit": limit,
            },
        ).all()
    by_address: dict[str, tuple[int, dict[Currency, int]]] = {}
    for row in rows:
        _, booked = by_address.setdefault(row.address, (int(row.hd_index), {}))
        booked[Currency(row.currency)] = int(row.amount)
    return [
        AddressHoldings(address=address, hd_index=hd_index, booked=booked)
        for address, (hd_index, booked) in by_address.items()
    ]
