"""The payments hot wallet (a system account) against Anvil: a payout broadcast but not
yet settled in the ledger is in flight, not a mismatch; money nobody booked is one. A
Bitcoin payout's fee in flight is the largest it signed (its own table of spends).

A database of its own: the system hot wallet account is shared by every payments test
in the session database, so its balance there is not this test's to predict.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from eth_account import Account as EthAccount
from sqlalchemy import Connection, Engine, text

from croupier.chains.ethereum.client import EthereumClient
from croupier.core.money import Currency
from croupier.ledger import (
    AccountKind,
    TransferRequest,
    TransferType,
    system_account,
    transfer,
)
from croupier.monitoring.hot_wallets import hot_wallets
from croupier.monitoring.wallets import check_wallets
from tests.integration.ledger.conftest import private_database
from tests.integration.monitoring.conftest import ETH, pay_on_chain

GWEI = 10**9
GAS_LIMIT = 21_000
MAX_FEE = 100 * GWEI
BTC_HOT = "bcrt1qhotwallet"
BTC_AMOUNT_SAT = 2_000_000
BTC_FEES_SAT = (1_410, 2_820)  # the first transaction, then its RBF replacement


@pytest.fixture
def own_engine(postgres_server_url: str) -> Iterator[Engine]:
    yield from private_database(postgres_server_url)


def fund_hot_wallet_ledger(engine: Engine, amount: int) -> int:
    hot = system_account(engine, AccountKind.HOT_WALLET, Currency.ETH)
    source = system_account(engine, AccountKind.DEPOSITS_IN_FLIGHT, Currency.ETH)
    transfer(
        engine,
        TransferRequest("refill-1", hot.id, source.id, amount, Currency.ETH, TransferType.REFILL),
    )
    return hot.id


def record_withdrawal_send(
    conn: Connection,
    *,
    currency: str,
    amount: int,
    status: str,
    chain: str,
    sender: str,
    nonce: int = 0,
) -> uuid.UUID:
    """A player's withdrawal and its hot-wallet send, as payments writes them."""
    user, withdrawal = uuid.uuid4(), uuid.uuid4()
    conn.execute(
        text(
            "INSERT INTO users (id, email, password_hash, role, created_at, updated_at) "
            "VALUES (:id, :email, 'x', 'player', now(), now())"
        ),
        {"id": user, "email": f"{user.hex}@example.com"},
    )
    conn.execute(
        text(
            "INSERT INTO withdrawals (id, user_id, currency, amount, fee, to_address, status) "
            "VALUES (:id, :user, :currency, :amount, 0, :to, :status)"
        ),
        {
            "id": withdrawal,
            "user": user,
            "currency": currency,
            "amount": amount,
            "to": EthAccount.create().address,
            "status": status,
        },
    )
    conn.execute(
        text(
            "INSERT INTO hot_wallet_sends (withdrawal_id, chain, sender, nonce, status) "
            "VALUES (:id, :chain, :sender, :nonce, 'in_flight')"
        ),
        {"id": withdrawal, "chain": chain, "sender": sender, "nonce": nonce},
    )
    return withdrawal


def record_broadcast_payout(engine: Engine, sender: str, amount: int, tx_hash: str) -> None:
    """The rows payments writes for a withdrawal whose send is out but not settled."""
    with engine.begin() as conn:
        withdrawal = record_withdrawal_send(
            conn, currency="ETH", amount=amount, status="broadcast", chain="ethereum", sender=sender
        )
        conn.execute(
            text(
                "INSERT INTO hot_wallet_transactions (tx_hash, withdrawal_id, attempt, chain_id, "
                "value_wei, data, gas_limit, max_fee_per_gas, max_priority_fee_per_gas, raw) "
                "VALUES (:tx, :id, 1, 31337, :amount, '', :gas, :max_fee, :tip, '')"
            ),
            {
                "tx": tx_hash,
                "id": withdrawal,
                "amount": amount,
                "gas": GAS_LIMIT,
                "max_fee": MAX_FEE,
                "tip": GWEI,
            },
        )


def record_btc_payout(engine: Engine, status: str, nonce: int) -> None:
    """A BTC withdrawal's send, signed twice (the first, then an RBF replacement)."""
    with engine.begin() as conn:
        withdrawal = record_withdrawal_send(
            conn,
            currency="BTC",
            amount=BTC_AMOUNT_SAT,
            status=status,
            chain="bitcoin",
            sender=BTC_HOT,
            nonce=nonce,
        )
        for attempt, fee in enumerate(BTC_FEES_SAT, start=1):
            conn.execute(
                text(
                    "INSERT INTO btc_hot_wallet_transactions (txid, withdrawal_id, attempt, "
                    "spend_plan, fee_sat, vsize, raw) "
                    "VALUES (:txid, :id, :attempt, '{}', :fee, 141, '')"
                ),
                {"txid": uuid.uuid4().hex * 2, "id": withdrawal, "attempt": attempt, "fee": fee},
            )


def pay_out_of(client: EthereumClient, key: str, amount: int) -> str:
    """Send ``amount`` from the hot wallet's own key, as the sender would."""
    w3 = client.web3
    sender = EthAccount.from_key(key)
    signed = sender.sign_transaction(
        {
            "chainId": 31337,
            "nonce": 0,
            "to": EthAccount.create().address,
            "value": amount,
            "gas": GAS_LIMIT,
            "maxFeePerGas": MAX_FEE,
            "maxPriorityFeePerGas": GWEI,
        }
    )
    tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
    assert w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30)["status"] == 1
    return "0x" + bytes(tx_hash).hex().removeprefix("0x")


def test_a_broadcast_payout_is_in_flight_until_settled_and_unbooked_money_is_not(
    own_engine: Engine, eth_client: EthereumClient
) -> None:
    hot_key = EthAccount.create()
    hot_id = fund_hot_wallet_ledger(own_engine, 2 * ETH)
    pay_on_chain(eth_client, hot_key.address, 2 * ETH)
    tx_hash = pay_out_of(eth_client, hot_key.key.hex(), ETH // 2)
    record_broadcast_payout(own_engine, hot_key.address, ETH // 2, tx_hash)
    readers = {"ethereum": eth_client}

    in_flight = check_wallets(own_engine, readers)
    # Nobody booked this; beyond what the in-flight send could explain either way.
    pay_on_chain(eth_client, hot_key.address, ETH)
    unbooked = check_wallets(own_engine, readers)

    (check,) = in_flight.checks
    assert check.after.account_id == hot_id and check.after.addresses == (hot_key.address,)
    assert check.after.in_flight_out == ETH // 2 + GAS_LIMIT * MAX_FEE
    assert check.matches and in_flight.unmatched_account_ids == ()
    (mismatch,) = unbooked.mismatches
    assert mismatch.chain_balance is not None and mismatch.chain_balance > mismatch.after.high


def test_a_system_wallet_without_an_address_is_reported_unmatched(own_engine: Engine) -> None:
    hot_id = fund_hot_wallet_ledger(own_engine, ETH)

    report = check_wallets(own_engine, {})

    assert report.checks == () and report.unmatched_account_ids == (hot_id,)


def test_a_broadcast_btc_payout_counts_its_largest_signed_fee_in_flight(
    own_engine: Engine,
) -> None:
    record_btc_payout(own_engine, "broadcast", nonce=0)
    record_btc_payout(own_engine, "completed", nonce=1)  # settled: nothing in flight

    with own_engine.connect() as conn:
        (wallet,) = hot_wallets(conn, ["bitcoin"])

    assert (wallet.currency, wallet.addresses) == (Currency.BTC, (BTC_HOT,))
    assert wallet.in_flight_out == BTC_AMOUNT_SAT + max(BTC_FEES_SAT)
