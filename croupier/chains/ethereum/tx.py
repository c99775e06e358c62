"""Building, pricing, signing and replacing EIP-1559 transactions. No I/O.

The hot-wallet sender owns the nonce and asks the node for fees and gas; this module
turns those facts into a signed transaction, and decides what a stuck transaction's
replacement must pay. Two rules from the fee market are encoded here:

- Never overpay: when the market needs more than the configured cap, the answer is
  "wait", not "send anyway". While the base fee is under the cap we send with the max
  fee clipped to the cap (the transaction is included as long as the base fee stays
  below ``cap - tip``).
- A replacement keeps the nonce and raises both the max fee and the tip by at least
  10%: geth's txpool rejects a smaller bump as "replacement transaction underpriced".
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from eth_abi.abi import encode as abi_encode
from eth_account import Account
from eth_typing import ChecksumAddress
from eth_utils.crypto import keccak

from croupier.chains.base import FeeEstimate
from croupier.chains.ethereum.addresses import parse_address
from croupier.chains.keys import InvalidKey, SigningKey
from croupier.core.money import check_minor_units

EIP1559_TX_TYPE = 2
WEI_PER_GAS = "wei/gas"  # the fee unit of an Ethereum FeeEstimate
NATIVE_TRANSFER_GAS = 21_000
MAX_GAS_LIMIT = 15_000_000  # half a 30M block: no transaction of ours needs more
GAS_MARGIN_PERCENT = 20  # headroom over eth_estimateGas for state drift before inclusion
MIN_REPLACEMENT_BUMP_PERCENT = 10
ERC20_TRANSFER_SELECTOR = keccak(text="transfer(address,uint256)")[:4]


@dataclass(frozen=True, slots=True)
class Fees:
    """EIP-1559 fee parameters, in wei per gas."""

    max_fee_per_gas: int
    max_priority_fee_per_gas: int

    def __post_init__(self) -> None:
        check_minor_units(self.max_fee_per_gas)
        check_minor_units(self.max_priority_fee_per_gas, allow_zero=True)
        if self.max_priority_fee_per_gas > self.max_fee_per_gas:
            raise ValueError(
                f"priority fee {self.max_priority_fee_per_gas} exceeds max fee "
                f"{self.max_fee_per_gas} wei/gas"
            )

    def bumped(self, percent: int = MIN_REPLACEMENT_BUMP_PERCENT) -> Fees:
        """Both fees raised by at least ``percent``% (rounded up, and by at least 1 wei)."""
        assert percent >= MIN_REPLACEMENT_BUMP_PERCENT, f"a bump below {percent}% is refused"
        return Fees(
            max_fee_per_gas=_raise_by(self.max_fee_per_gas, percent),
            max_priority_fee_per_gas=_raise_by(self.max_priority_fee_per_gas, percent),
        )

    def covers_replacement_of(self, previous: Fees) -> bool:
        """Whether these fees may replace a pending transaction that pays ``previous``."""
        floor = previous.bumped()
        return (
            self.max_fee_per_gas >= floor.max_fee_per_gas
            and self.max_priority_fee_per_gas >= floor.max_priority_fee_per_gas
        )


def _raise_by(value_wei: int, percent: int) -> int:
    return max(value_wei + 1, -(-value_wei * (100 + percent) // 100))


@dataclass(frozen=True, slots=True)
class FeeDecision:
    """Either fees to send with now, or the reason to wait for a cheaper market."""

    fees: Fees | None
    wait_reason: str | None = None

    def __post_init__(self) -> None:
        assert (self.fees is None) != (self.wait_reason is None), "send xor wait"

    @property
    def should_wait(self) -> bool:
        return self.fees is None


def market_fees(
    estimate: FeeEstimate, *, priority_fee_wei: int, max_fee_cap_wei: int
) -> FeeDecision:
    """Fees for a new transaction: our tip (or the node's, if higher), within the cap.

    The max fee is the usual ``2 * base fee + tip`` (it survives six full blocks of
    base-fee growth), clipped to the cap; if even ``base fee + tip`` exceeds the cap we
    wait.
    """
    assert estimate.fee_unit == WEI_PER_GAS, f"not an Ethereum fee estimate: {estimate}"
    tip_wei = max(priority_fee_wei, estimate.priority_fee)
    needed_wei = estimate.base_fee + tip_wei
    if needed_wei > max_fee_cap_wei:
        return FeeDecision(
            fees=None,
            wait_reason=(
                f"base fee {estimate.base_fee} + tip {tip_wei} wei/gas exceeds the cap of "
                f"{max_fee_cap_wei} wei/gas"
            ),
        )
    max_fee_wei = min(2 * estimate.base_fee + tip_wei, max_fee_cap_wei)
    return FeeDecision(Fees(max_fee_per_gas=max_fee_wei, max_priority_fee_per_gas=tip_wei))


def replacement_fees(previous: Fees, market: FeeDecision, *, max_fee_cap_wei: int) -> FeeDecision:
    """Fees for replacing a stuck transaction that pays ``previous``.

    At least a 10% bump of both fees; more if the market has moved further than that.
    If the bump would cross the cap we wait: the pending transaction may still be
    included, and a replacement above the cap is the overpayment the cap forbids.
    """
    fees = previous.bumped()
    if market.fees is not None:
        fees = Fees(
            max_fee_per_gas=max(fees.max_fee_per_gas, market.fees.max_fee_per_gas),
            max_priority_fee_per_gas=max(
                fees.max_priority_fee_per_gas, market.fees.max_priority_fee_per_gas
            ),
        )
    if fees.max_fee_per_gas > max_fee_cap_wei:
        return FeeDecision(
            fees=None,
            wait_reason=(
                f"a replacement needs a max fee of {fees.max_fee_per_gas} wei/gas, above the "
                f"cap of {max_fee_cap_wei} wei/gas"
            ),
        )
    return FeeDecision(fees)


@dataclass(frozen=True, slots=True)
class UnsignedTx:
    """An EIP-1559 transaction ready to sign. ``to=None`` deploys a contract."""

    chain_id: int
    sender: ChecksumAddress
    nonce: int
    to: ChecksumAddress | None
    value_wei: int
    data: bytes
    gas_limit: int
    fees: Fees

    def __post_init__(self) -> None:
        assert self.chain_id >= 1, f"bad chain id {self.chain_id}"
        assert self.nonce >= 0, f"bad nonce {self.nonce}"
        check_minor_units(self.value_wei, allow_zero=True)
        if not NATIVE_TRANSFER_GAS <= self.gas_limit <= MAX_GAS_LIMIT:
            raise ValueError(
                f"gas limit {self.gas_limit} outside {NATIVE_TRANSFER_GAS}..{MAX_GAS_LIMIT}"
            )

    def as_eth_account_dict(self) -> dict[str, Any]:
        """The dict ``Account.sign_transaction`` takes."""
        fields: dict[str, Any] = {
            "type": EIP1559_TX_TYPE,
            "chainId": self.chain_id,
            "nonce": self.nonce,
            "value": self.value_wei,
            "data": self.data,
            "gas": self.gas_limit,
            "maxFeePerGas": self.fees.max_fee_per_gas,
            "maxPriorityFeePerGas": self.fees.max_priority_fee_per_gas,
        }
        if self.to is not None:
            fields["to"] = self.to
        return fields

    def replaced_with(self, fees: Fees) -> UnsignedTx:
        """The same transaction (same nonce) paying ``fees``, which must bump ours by 10%+."""
        if not fees.covers_replacement_of(self.fees):
            raise ValueError(
                f"replacement fees {fees} do not raise both of {self.fees} by "
                f"{MIN_REPLACEMENT_BUMP_PERCENT}%"
            )
        return replace(self, fees=fees)


@dataclass(frozen=True, slots=True)
class SignedTx:
    """A signed transaction: ``raw`` goes to ``broadcast``, ``tx_hash`` identifies it."""

    tx: UnsignedTx
    raw: bytes
    tx_hash: str


def native_transfer(
    *,
    chain_id: int,
    sender: str,
    nonce: int,
    to: str,
    amount_wei: int,
    fees: Fees,
) -> UnsignedTx:
    """Send ``amount_wei`` of ETH. A plain transfer to an account costs exactly 21000 gas."""
    return UnsignedTx(
        chain_id=chain_id,
        sender=parse_address(sender),
        nonce=nonce,
        to=parse_address(to),
        value_wei=check_minor_units(amount_wei),
        data=b"",
        gas_limit=NATIVE_TRANSFER_GAS,
        fees=fees,
    )


def erc20_transfer(
    *,
    chain_id: int,
    sender: str,
    nonce: int,
    token: str,
    to: str,
    amount_minor: int,
    gas_limit: int,
    fees: Fees,
) -> UnsignedTx:
    """Call ``token.transfer(to, amount_minor)``; ``gas_limit`` from ``with_gas_margin``."""
    return UnsignedTx(
        chain_id=chain_id,
        sender=parse_address(sender),
        nonce=nonce,
        to=parse_address(token),
        value_wei=0,
        data=encode_erc20_transfer(to, amount_minor),
        gas_limit=gas_limit,
        fees=fees,
    )


def encode_erc20_transfer(to: str, amount_minor: int) -> bytes:
    """Calldata of ``transfer(address,uint256)``."""
    return ERC20_TRANSFER_SELECTOR + abi_encode(
        ["address", "uint256"], [parse_address(to), check_minor_units(amount_minor)]
    )


def with_gas_margin(estimated_gas: int) -> int:
    """A gas limit with headroom over the node's estimate, within ``MAX_GAS_LIMIT``."""
    assert estimated_gas >= NATIVE_TRANSFER_GAS, f"implausible gas estimate {estimated_gas}"
    limit = -(-estimated_gas * (100 + GAS_MARGIN_PERCENT) // 100)
    if limit > MAX_GAS_LIMIT:
        raise ValueError(f"estimated gas {estimated_gas} is above our limit of {MAX_GAS_LIMIT}")
    return limit


def address_of(key: SigningKey) -> ChecksumAddress:
    """The account address a key signs for."""
    return parse_address(Account.from_key(key.reveal()).address)


def sign(tx: UnsignedTx, key: SigningKey) -> SignedTx:
    """Sign with ``key``, which must be the sender's: a wrong key is refused, not used."""
    if address_of(key) != tx.sender:
        raise InvalidKey(f"the signing key does not belong to the sender {tx.sender}")
    signed = Account.sign_transaction(tx.as_eth_account_dict(), key.reveal())
    return SignedTx(tx=tx, raw=bytes(signed.raw_transaction), tx_hash=signed.hash.to_0x_hex())
