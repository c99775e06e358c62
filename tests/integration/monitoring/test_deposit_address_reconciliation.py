"""Player deposit addresses against real Anvil: what the records explain (credited,
seen but unconfirmed, consolidating) reconciles clean; coins nobody recorded, or records
the chain does not back, raise alerts; and a small batch rotates through every address.

A database of this module's own: the check covers every deposit address of a chain,
and the session database holds other modules' addresses on other Anvil instances.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from eth_account import Account as EthAccount
from sqlalchemy import Engine, text
from web3 import Web3

from croupier.chains.ethereum.client import EthereumClient
from croupier.core.money import Currency
from croupier.ledger import (
    AccountKind,
    TransferRequest,
    TransferType,
    player_account,
    system_account,
    transfer,
)
from croupier.monitoring.alerts import AlertFilter, AlertKind, list_alerts
from croupier.monitoring.deposit_addresses import (
    AddressCheck,
    ChainReport,
    Verdict,
    check_deposit_addresses,
)
from croupier.monitoring.deposit_books import check_deposit_books
from croupier.payments import deposits
from croupier.payments.addresses import assign_deposit_address
from croupier.sweeps.movements import MovementKind, NewMovement, open_movement
from tests.integration.ledger.conftest import private_database
from tests.integration.monitoring.conftest import ETH, PAYER_INDEX

CHAIN = "ethereum"
CONFIRMATIONS = 2
HOT_ADDRESS = "0x" + "ab" * 20


@pytest.fixture(scope="module")
def db(postgres_server_url: str) -> Iterator[Engine]:
    yield from private_database(postgres_server_url)


@pytest.fixture
def fresh_db(postgres_server_url: str) -> Iterator[Engine]:
    yield from private_database(postgres_server_url)


def deposit_address(engine: Engine) -> str:
    """A new player's Ethereum deposit address (a fresh key; no test signs with it)."""
    user = uuid.uuid4()
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO users (id, email, password_hash, role, created_at, updated_at) "
                "VALUES (:id, :email, 'x', 'player', now(), now())"
            ),
            {"id": user, "email": f"{user.hex}@example.com"},
        )
    return assign_deposit_address(
        engine, user, CHAIN, lambda _: EthAccount.create().address
    ).address


def send(client: EthereumClient, to: str, amount: int) -> tuple[str, int, str]:
    """ETH from an Anvil dev account, mined: (tx hash, block number, block hash)."""
    w3 = client.web3
    tx_hash = w3.eth.send_transaction(
        {"from": w3.eth.accounts[PAYER_INDEX], "to": Web3.to_checksum_address(to), "value": amount}
    )
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30)
    assert receipt["status"] == 1
    return (
        "0x" + bytes(tx_hash).hex().removeprefix("0x"),
        receipt["blockNumber"],
        receipt["blockHash"].to_0x_hex(),
    )


def seen(engine: Engine, address: str, amount: int, tx: tuple[str, int, str]) -> str:
    """The scanner's sighting of a transfer into ``address``; the deposit's id."""
    tx_hash, block, block_hash = tx
    sighting = deposits.Sighting(
        chain=CHAIN,
        tx_hash=tx_hash,
        log_index=-1,
        block_number=block,
        block_hash=block_hash,
        from_address=EthAccount.create().address,
        to_address=address,
        currency=Currency.ETH,
        amount=amount,
    )
    recorded = deposits.record_deposit(
        engine, sighting, dust_minimum=1, confirmations_required=CONFIRMATIONS
    )
    return recorded.id


def credited(engine: Engine, address: str, amount: int, tx: tuple[str, int, str]) -> None:
    deposit_id = seen(engine, address, amount, tx)
    deposits.observe_included(
        engine, deposit_id, block_number=tx[1], block_hash=tx[2], confirmations=CONFIRMATIONS
    )
    deposits.credit_deposit(engine, deposit_id, lambda _conn, _record: None)


def run(
    engine: Engine, client: EthereumClient, *, grace_s: int = 0, batch_size: int = 500
) -> ChainReport:
    reports = check_deposit_addresses(
        engine, {CHAIN: client}, batch_size=batch_size, surplus_grace_s=grace_s
    )
    (report,) = [r for r in reports if r.chain == CHAIN]
    return report


def check_of(report: ChainReport, address: str) -> AddressCheck:
    (check,) = [c for c in report.checks if c.address == address and c.currency is Currency.ETH]
    return check


def open_alert_keys(engine: Engine, kind: str) -> set[str | None]:
    with engine.connect() as conn:
        page = list_alerts(conn, status=AlertFilter.OPEN, kind=kind, limit=200)
    return {alert.dedup_key for alert in page.alerts}


def test_credited_deposits_reconcile_clean(db: Engine, eth_client: EthereumClient) -> None:
    address = deposit_address(db)
    credited(db, address, ETH, send(eth_client, address, ETH))
    credited(db, address, ETH // 4, send(eth_client, address, ETH // 4))

    report = run(db, eth_client)
    books = check_deposit_books(db, [CHAIN])

    check = check_of(report, address)
    assert check.verdict is Verdict.MATCHES
    assert check.low == check.high == check.chain_balance == ETH + ETH // 4
    assert report.unwatched == (Currency.USDT,)  # this node watches no token contract
    (eth_books,) = [b for b in books if b.currency is Currency.ETH]
    assert eth_books.matches and eth_books.posted >= ETH + ETH // 4
    assert f"{CHAIN}:{address}:ETH" not in open_alert_keys(db, AlertKind.DEPOSIT_ADDRESS_MISMATCH)


def test_an_on_chain_transfer_the_ledger_does_not_know_is_detected(
    db: Engine, eth_client: EthereumClient
) -> None:
    address = deposit_address(db)
    credited(db, address, ETH, send(eth_client, address, ETH))
    send(eth_client, address, ETH // 10)  # nobody recorded this one

    within_grace = check_of(run(db, eth_client, grace_s=3600), address)
    key = f"{CHAIN}:{address}:ETH"
    alerted_in_grace = key in open_alert_keys(db, AlertKind.DEPOSIT_ADDRESS_MISMATCH)
    past_grace = check_of(run(db, eth_client, grace_s=0), address)

    assert within_grace.verdict is Verdict.SURPLUS_IN_GRACE and not alerted_in_grace
    assert past_grace.verdict is Verdict.SURPLUS
    assert past_grace.chain_balance - past_grace.high == ETH // 10
    assert key in open_alert_keys(db, AlertKind.DEPOSIT_ADDRESS_MISMATCH)


def test_a_deposit_seen_but_not_yet_confirmed_is_not_an_alarm(
    db: Engine, eth_client: EthereumClient
) -> None:
    mined = deposit_address(db)
    seen(db, mined, ETH // 2, send(eth_client, mined, ETH // 2))
    # Seen in a block the chain has not (or no longer) got: nothing there yet.
    unmined = deposit_address(db)
    seen(db, unmined, ETH // 3, ("0x" + uuid.uuid4().hex * 2, 10**6, "0x" + "11" * 32))

    report = run(db, eth_client)

    assert check_of(report, mined).verdict is Verdict.MATCHES
    assert check_of(report, unmined).verdict is Verdict.MATCHES
    assert (check_of(report, mined).low, check_of(report, mined).high) == (0, ETH // 2)
    assert not {f"{CHAIN}:{a}:ETH" for a in (mined, unmined)} & open_alert_keys(
        db, AlertKind.DEPOSIT_ADDRESS_MISMATCH
    )


def test_a_consolidation_in_flight_allows_the_coins_to_be_gone(
    db: Engine, eth_client: EthereumClient
) -> None:
    address = deposit_address(db)
    credited(db, address, ETH, send(eth_client, address, ETH))
    with db.begin() as conn:
        open_movement(
            conn,
            NewMovement(
                id=f"consolidation-test-{uuid.uuid4()}",
                kind=MovementKind.CONSOLIDATION,
                chain=CHAIN,
                currency=Currency.ETH,
                from_address=address,
                to_address=HOT_ADDRESS,
                amount=ETH // 2,
                fee_reserved=21_000 * 10**10,
                workflow_id="consolidation-test",
                hd_index=0,
            ),
        )

    check = check_of(run(db, eth_client), address)
    books = {b.currency: b for b in check_deposit_books(db, [CHAIN])}

    assert check.verdict is Verdict.MATCHES
    assert (check.low, check.high) == (ETH - ETH // 2 - 21_000 * 10**10, ETH)
    assert books[Currency.ETH].matches and books[Currency.ETH].pending_out > 0


def test_records_the_chain_does_not_back_are_a_shortfall_alarmed_at_once(
    db: Engine, eth_client: EthereumClient
) -> None:
    address = deposit_address(db)
    # Credited, but the transaction is not on this chain: the coins are not there.
    credited(db, address, ETH, ("0x" + uuid.uuid4().hex * 2, 10**6, "0x" + "22" * 32))

    check = check_of(run(db, eth_client, grace_s=3600), address)

    assert check.verdict is Verdict.SHORT and check.chain_balance == 0 and check.low == ETH
    assert f"{CHAIN}:{address}:ETH" in open_alert_keys(db, AlertKind.DEPOSIT_ADDRESS_MISMATCH)


def test_a_ledger_posting_without_a_deposit_record_breaks_the_books(fresh_db: Engine) -> None:
    in_flight = system_account(fresh_db, AccountKind.DEPOSITS_IN_FLIGHT, Currency.ETH)
    cash = player_account(fresh_db, "someone", AccountKind.PLAYER_CASH, Currency.ETH)
    transfer(
        fresh_db,
        TransferRequest(
            "credit-without-a-deposit",
            in_flight.id,
            cash.id,
            ETH,
            Currency.ETH,
            TransferType.DEPOSIT,
        ),
    )

    (check,) = check_deposit_books(fresh_db, [CHAIN])

    assert not check.matches and check.posted == ETH and check.records.booked == 0
    assert open_alert_keys(fresh_db, AlertKind.DEPOSIT_BOOKS_MISMATCH) == {"deposits-in-flight-ETH"}


def test_a_small_batch_rotates_through_every_address(
    db: Engine, eth_client: EthereumClient
) -> None:
    for _ in range(3):
        deposit_address(db)
    with db.connect() as conn:
        everyone = set(
            conn.execute(
                text("SELECT address FROM deposit_addresses WHERE chain = :chain"),
                {"chain": CHAIN},
            ).scalars()
        )

    seen_addresses: set[str] = set()
    batches = []
    for _ in range(len(everyone)):  # at least one new address per run (batch of 2)
        report = run(db, eth_client, grace_s=3600, batch_size=2)
        batches.append(report.addresses_checked)
        seen_addresses |= {check.address for check in report.checks}

    assert seen_addresses == everyone
    assert max(batches) <= 2 and report.total_addresses == len(everyone)


def test_a_chain_with_addresses_and_no_node_is_reported_unreadable(db: Engine) -> None:
    deposit_address(db)

    reports = check_deposit_addresses(db, {}, batch_size=10, surplus_grace_s=0)

    (report,) = [r for r in reports if r.chain == CHAIN]
    assert report.error == f"no {CHAIN} node is configured" and report.checks == ()
    assert f"deposit-addresses-{CHAIN}" in open_alert_keys(db, AlertKind.WALLET_UNREADABLE)
