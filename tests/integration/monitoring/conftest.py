"""Monitoring fixtures: private ledger corners, and a funded address on the session Anvil."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import pytest
from eth_account import Account as EthAccount
from sqlalchemy import Engine
from web3 import Web3

from croupier.chains.ethereum.client import EthereumClient
from croupier.core.money import Currency
from croupier.ledger import (
    Account,
    AccountKind,
    AccountSpec,
    TransferRequest,
    TransferType,
    open_account,
    transfer,
)

ETH = Currency.ETH.unit
# Anvil's dev account 6 pays the chain side here (chains tests use 7..9).
PAYER_INDEX = 6


@dataclass
class Corner:
    """Accounts of one test only, so session-wide data never leaks into its checks."""

    engine: Engine
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    accounts: list[Account] = field(default_factory=list)

    def open(self, kind: AccountKind, owner: str | None = None) -> Account:
        spec = AccountSpec(kind, owner or f"{kind.value}-{self.tag}", Currency.ETH)
        account = open_account(self.engine, spec)
        self.accounts.append(account)
        return account

    @property
    def ids(self) -> list[int]:
        return [account.id for account in self.accounts]

    def move(self, debit: Account, credit: Account, amount: int, kind: TransferType) -> str:
        transfer_id = f"{kind.value}-{self.tag}-{uuid.uuid4().hex[:8]}"
        transfer(
            self.engine,
            TransferRequest(transfer_id, debit.id, credit.id, amount, Currency.ETH, kind),
        )
        return transfer_id


@pytest.fixture
def corner(engine: Engine) -> Corner:
    return Corner(engine)


@pytest.fixture(scope="session")
def eth_client(anvil_url: str) -> EthereumClient:
    return EthereumClient(Web3(Web3.HTTPProvider(anvil_url, exception_retry_configuration=None)))


def pay_on_chain(client: EthereumClient, to: str, amount_wei: int) -> None:
    """A plain transfer from an Anvil dev account (the node signs it and mines it)."""
    w3 = client.web3
    tx_hash = w3.eth.send_transaction(
        {
            "from": w3.eth.accounts[PAYER_INDEX],
            "to": Web3.to_checksum_address(to),
            "value": amount_wei,
        }
    )
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30)
    assert receipt["status"] == 1


def fresh_address() -> str:
    address: str = EthAccount.create().address
    return address
