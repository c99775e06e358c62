"""Deposit addresses are imported into the node's watch-only wallet as they are issued.

The node's wallet is what balances and coin listings read (deposit reconciliation,
consolidation); the simulator, like bitcoind, shows it nothing that was not imported.
"""

from __future__ import annotations

from croupier.chains.bitcoin.coins import TxOut
from croupier.core.money import Currency
from croupier.payments.addresses import assign_deposit_address
from tests.integration.payments.conftest import new_player
from tests.integration.payments_btc.conftest import CHAIN, NETWORK, BtcStack

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
    # Stored as the activity would, but never through it: nothing imported it.
    stored = assign_deposit_address(
        stack.engine,
        new_player(stack.engine),
        CHAIN,
        lambda index: stack.signer.btc_address(index, NETWORK),
    )
    stack.payer.pay([TxOut(stored.address, AMOUNT_SAT)])
    stack.mine(1)
    assert stack.chain.confirmed_balance(stored.address) == AMOUNT_SAT
    assert stack.client.balance(stored.address, Currency.BTC) == 0
