"""Deposit addresses are imported into the node's watch-only wallet as they are issued,
and ``croupier btc watch-addresses`` imports them all again (a wallet lost or recreated).

The node's wallet is what balances and coin listings read (deposit reconciliation,
consolidation); the simulator, like bitcoind, shows it nothing that was not imported,
and an import sees coins from before it only with a rescan reaching back to them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime

from sqlalchemy import update

from croupier.chains.bitcoin.coins import TxOut
from croupier.core.money import Currency
from croupier.payments.addresses import DepositAddress, assign_deposit_address
from croupier.payments.tables import deposit_addresses
from tests.integration.payments.conftest import new_player
from tests.integration.payments_btc.conftest import (
    CHAIN,
    NETWORK,
    RPC_PASSWORD,
    RPC_USER,
    BtcStack,
    fresh_address,
)

AMOUNT_SAT = 250_000


async def test_an_issued_btc_deposit_address_is_watched_by_the_node(btc_stack: BtcStack) -> None:
    stack = btc_stack
    player = new_player(stack.engine)
    address = await stack.deposit_address(player)
    stack.payer.pay([TxOut(address, AMOUNT_SAT)])
    stack.mine(1)
    assert stack.client.balance(address, Currency.BTC) == AMOUNT_SAT
    # Issued again (each deposit-page view): imported again, harmlessly.
    assert await stack.deposit_address(player) == address
    assert stack.client.balance(address, Currency.BTC) == AMOUNT_SAT


async def test_an_address_never_imported_is_invisible_to_the_node(btc_stack: BtcStack) -> None:
    stack = btc_stack
    stored = stored_unwatched(stack)
    stack.payer.pay([TxOut(stored.address, AMOUNT_SAT)])
    stack.mine(1)
    assert stack.chain.confirmed_balance(stored.address) == AMOUNT_SAT
    assert stack.client.balance(stored.address, Currency.BTC) == 0


def stored_unwatched(stack: BtcStack) -> DepositAddress:
    """An address stored as the activity would store it, but never imported: what every
    deposit address is to a node whose wallet was recreated."""
    return assign_deposit_address(
        stack.engine,
        new_player(stack.engine),
        CHAIN,
        lambda index: stack.signer.btc_address(index, NETWORK),
    )


def issued_at_chain_time(stack: BtcStack, stored: DepositAddress) -> int:
    """Date the address's issue to the simulated chain's clock (its blocks are dated from
    2011 on), as if it had been issued just now in chain time; the unix time."""
    issued = stack.chain.tip_time()
    with stack.engine.begin() as conn:
        conn.execute(
            update(deposit_addresses)
            .where(deposit_addresses.c.user_id == stored.user_id)
            .values(created_at=datetime.fromtimestamp(issued, UTC))
        )
    return issued


def watch_cli(stack: BtcStack, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    settings = stack.settings
    assert settings.database_url is not None and settings.btc_rpc_url is not None
    return subprocess.run(
        [sys.executable, "-m", "croupier.workers.cli", "btc", "watch-addresses", *args],
        capture_output=True,
        text=True,
        env={
            **os.environ,
            "CROUPIER_DATABASE_URL": settings.database_url,
            "CROUPIER_BTC_RPC_URL": settings.btc_rpc_url,
            "CROUPIER_BTC_RPC_USER": RPC_USER,
            "CROUPIER_BTC_RPC_PASSWORD": RPC_PASSWORD,
            "CROUPIER_BTC_NETWORK": NETWORK.value,
            **env,
        },
        timeout=60,
        check=False,
    )


def test_watch_addresses_brings_back_the_coins_of_stored_addresses(btc_stack: BtcStack) -> None:
    stack = btc_stack
    stored = stored_unwatched(stack)
    issued = issued_at_chain_time(stack, stored)
    stack.payer.pay([TxOut(stored.address, AMOUNT_SAT)])
    stack.mine(1)
    assert stack.client.balance(stored.address, Currency.BTC) == 0

    done = watch_cli(stack, "--json")

    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    # Every other address stored in the module's database was issued later (wall clock).
    assert report["rescan_from"] == issued
    assert report["deposit_addresses"] >= 1 and report["cold_addresses"] == 0
    assert report["imported"] == report["deposit_addresses"]
    assert stack.client.balance(stored.address, Currency.BTC) == AMOUNT_SAT


def test_watch_addresses_takes_the_cold_and_given_addresses_and_an_explicit_rescan(
    btc_stack: BtcStack,
) -> None:
    stack = btc_stack
    cold, hot = fresh_address(), fresh_address()
    stack.payer.pay([TxOut(cold, AMOUNT_SAT), TxOut(hot, 2 * AMOUNT_SAT)])
    stack.mine(1)
    policy = {"cap": "10", "target": "5", "floor": "1", "cold_address": cold}

    done = watch_cli(
        stack,
        "--address",
        hot,
        "--rescan-from",
        "0",
        CROUPIER_TREASURY_HOT_WALLETS=json.dumps({"BTC": policy}),
    )

    assert done.returncode == 0, done.stderr
    assert "1 cold, 1 given" in done.stdout and "rescanned from 1970-01-01" in done.stdout
    assert stack.client.balance(cold, Currency.BTC) == AMOUNT_SAT
    assert stack.client.balance(hot, Currency.BTC) == 2 * AMOUNT_SAT


def test_a_bad_address_is_refused_before_anything_is_imported(btc_stack: BtcStack) -> None:
    stack = btc_stack
    stored = stored_unwatched(stack)
    issued_at_chain_time(stack, stored)
    stack.payer.pay([TxOut(stored.address, AMOUNT_SAT)])
    stack.mine(1)

    done = watch_cli(stack, "--address", f"not-an-address-{uuid.uuid4().hex[:6]}")

    assert done.returncode == 2
    assert done.stderr.startswith("croupier: error: ") and done.stderr.count("\n") == 1
    assert done.stdout == ""
    assert stack.client.balance(stored.address, Currency.BTC) == 0
