"""Building and signing a planned spend: P2WPKH inputs, opt-in RBF, BIP-143 signatures.

``sign_spend`` is the function the withdrawal and sweep activities call: a
``SpendPlan`` and the private keys of its inputs' addresses in, a ``SignedTransaction``
(raw hex, txid, real size) out. Keys arrive as ``SigningKey`` (32 bytes, redacted in
every repr) or WIF text through ``signing_key_from_wif``; they live in local variables
of this module for the length of the call and are never logged, returned or stored.

Every input signals BIP-125 replaceability (nSequence 0xfffffffd, which also leaves
BIP-68 relative locktimes off), so a stuck transaction can always be fee-bumped.
Signatures are RFC 6979 deterministic: signing the same plan twice gives the same
transaction and txid, so a retried activity cannot create a second, different spend.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from bitcoinlib.encoding import change_base
from bitcoinlib.keys import Key
from bitcoinlib.transactions import Transaction

from croupier.chains.bitcoin.addresses import p2wpkh_address, parse_address
from croupier.chains.bitcoin.coins import SpendPlan
from croupier.chains.bitcoin.errors import MissingSigningKey
from croupier.chains.bitcoin.fees import WITNESS_SCALE_FACTOR, rate_of
from croupier.chains.bitcoin.network import BtcNetwork
from croupier.chains.keys import InvalidKey, SigningKey

TX_VERSION = 2
RBF_SEQUENCE = 0xFFFF_FFFD  # BIP-125: < 0xfffffffe signals replaceability
MAX_STANDARD_TX_WEIGHT = 400_000
_WIF_COMPRESSED_BYTES = 38  # version, 32-byte key, compression flag, 4-byte checksum
_WIF_PREFIX = {BtcNetwork.BITCOIN: 0x80, BtcNetwork.TESTNET: 0xEF, BtcNetwork.REGTEST: 0xEF}


@dataclass(frozen=True, slots=True)
class SignedTransaction:
    """A signed spend ready to broadcast, with the plan it came from.

    ``vsize`` is the signed transaction's real virtual size (never above the plan's
    estimate); the fee is the plan's. Plain strings and ints, so it travels in a Temporal
    payload and the hot wallet sender can later bump it with ``plan_replacement``.
    """

    plan: SpendPlan
    txid: str
    raw_hex: str
    vsize: int

    def __post_init__(self) -> None:
        assert 0 < self.vsize <= self.plan.vsize_estimate, "the size estimate is an upper bound"

    @property
    def raw(self) -> bytes:
        return bytes.fromhex(self.raw_hex)

    @property
    def fee_sat(self) -> int:
        return self.plan.fee_sat

    @property
    def fee_rate_sat_kvb(self) -> int:
        """The feerate actually paid, rounded down."""
        return rate_of(self.plan.fee_sat, self.vsize)


def sign_spend(
    plan: SpendPlan, keys: Sequence[SigningKey], network: BtcNetwork
) -> SignedTransaction:
    """Build the transaction ``plan`` describes and sign every input with its address's key.

    ``keys`` may hold more keys than needed (a sweep passes every deposit key it touches);
    an input whose address matches none raises ``MissingSigningKey``.
    """
    lib_network = network.params.bitcoinlib_name
    signers = [Key(key.reveal(), network=lib_network) for key in keys]
    by_address = {p2wpkh_address(bytes(k.public_byte), network): k for k in signers}
    tx = Transaction(network=lib_network, witness_type="segwit", version=TX_VERSION, locktime=0)
    input_signers = []
    for utxo in plan.inputs:
        signer = by_address.get(utxo.address)
        if signer is None:
            raise MissingSigningKey(f"no key was given for input address {utxo.address}")
        tx.add_input(
            utxo.txid,
            utxo.vout,
            keys=Key(signer.public_byte, network=lib_network),
            value=utxo.value_sat,
            witness_type="segwit",
            sequence=RBF_SEQUENCE,
        )
        input_signers.append(signer)
    for output in plan.outputs:
        script = parse_address(output.address, network).script_pubkey
        tx.add_output(output.amount_sat, lock_script=script)
    for index, signer in enumerate(input_signers):
        tx.sign(keys=signer, index_n=index)
    assert tx.verify(), "a freshly signed transaction must verify"
    return _signed(plan, tx)


def _signed(plan: SpendPlan, tx: Transaction) -> SignedTransaction:
    raw = bytes(tx.raw())
    stripped = bytes(tx.raw(witness_type="legacy"))
    weight = 3 * len(stripped) + len(raw)
    assert weight <= MAX_STANDARD_TX_WEIGHT, f"transaction weight {weight} is non-standard"
    vsize = -(-weight // WITNESS_SCALE_FACTOR)
    return SignedTransaction(plan=plan, txid=_txid(stripped), raw_hex=raw.hex(), vsize=vsize)


def txid_of(raw: bytes) -> str:
    """The txid of a serialized transaction: the hash of it without witness data."""
    tx = Transaction.parse_bytes(raw)
    return _txid(bytes(tx.raw(witness_type="legacy")))


def _txid(stripped: bytes) -> str:
    return hashlib.sha256(hashlib.sha256(stripped).digest()).digest()[::-1].hex()


def signing_key_from_wif(wif: str, network: BtcNetwork) -> SigningKey:
    """The key in a WIF string (what wallets export) for ``network``.

    Decoded here rather than by bitcoinlib, whose ``Key`` silently relabels a WIF of
    another network. Only compressed-key WIF is accepted (P2WPKH needs compressed keys).
    Errors never repeat the text: it is a private key.
    """
    try:
        decoded = bytes(change_base(wif, 58, 256))
    except Exception:  # bitcoinlib raises several unrelated types for bad input
        raise InvalidKey("the WIF private key does not decode") from None
    body, checksum = decoded[:-4], decoded[-4:]
    if len(decoded) < 5 or hashlib.sha256(hashlib.sha256(body).digest()).digest()[:4] != checksum:
        raise InvalidKey("the WIF private key has a bad checksum")
    if len(decoded) != _WIF_COMPRESSED_BYTES or body[-1] != 0x01:
        raise InvalidKey("a WIF for P2WPKH is a compressed private key")
    if body[0] != _WIF_PREFIX[network]:
        raise InvalidKey(f"the WIF private key is not for {network}")
    return SigningKey(body[1:33])
