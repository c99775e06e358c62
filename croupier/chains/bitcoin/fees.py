"""Feerates, transaction sizes and dust, in integers only.

A feerate is satoshis per 1000 virtual bytes (``_sat_kvb``), bitcoind's ``CFeeRate``
unit, so 0.1 sat/vB is 100 and never a float. A fee is rounded up from the feerate, so
a transaction never pays less than the rate it was built for.

Sizes are for the only inputs Croupier spends, P2WPKH, counted in weight units and
taken at their largest (a 72-byte DER signature plus the sighash byte). The estimate is
therefore never below the signed transaction's real virtual size, and the real feerate
never below the target.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from croupier.core.errors import InvalidInput

SAT_PER_BTC = 100_000_000
VBYTES_PER_KVB = 1000
WITNESS_SCALE_FACTOR = 4
# version (4) + locktime (4) in the base part; SegWit marker and flag (2) are witness data.
_TX_OVERHEAD_WU = 8 * WITNESS_SCALE_FACTOR + 2
# prevout (36) + empty scriptSig length (1) + nSequence (4), all base data.
_P2WPKH_INPUT_BASE_WU = 41 * WITNESS_SCALE_FACTOR
# witness: item count (1) + signature push (1 + 72 + sighash 1) + pubkey push (1 + 33).
P2WPKH_WITNESS_MAX_BYTES = 1 + 1 + 73 + 1 + 33
P2WPKH_INPUT_WU = _P2WPKH_INPUT_BASE_WU + P2WPKH_WITNESS_MAX_BYTES
P2WPKH_SCRIPT_BYTES = 22
# Bitcoin Core's dust rule: an output is dust if spending it would cost more than it is
# worth at DUST_RELAY_FEE (3 sat/vB); spending sizes as in policy.cpp GetDustThreshold.
DUST_RELAY_FEE_SAT_KVB = 3000
_SPEND_SIZE_WITNESS = 32 + 4 + 1 + 107 // WITNESS_SCALE_FACTOR + 4
_SPEND_SIZE_LEGACY = 32 + 4 + 1 + 107 + 4
OP_RETURN = 0x6A


def sat_vb_to_sat_kvb(rate_sat_vb: Decimal) -> int:
    """An exact sat/vB decimal (at most 3 places, i.e. whole sat/kvB) in sat/kvB."""
    rate = rate_sat_vb * VBYTES_PER_KVB
    if rate != rate.to_integral_value() or rate < 0:
        raise InvalidInput(f"{rate_sat_vb} sat/vB is not a whole number of sat/kvB")
    return int(rate)


def btc_to_sat(amount_btc: Decimal | int) -> int:
    """An exact BTC amount as bitcoind prints it (8 decimals) in satoshis."""
    sat = Decimal(amount_btc) * SAT_PER_BTC
    if sat != sat.to_integral_value():
        raise InvalidInput(f"{amount_btc} BTC is not a whole number of satoshis")
    return int(sat)


def fee_for(vsize: int, rate_sat_kvb: int) -> int:
    """The fee in satoshis of ``vsize`` virtual bytes at ``rate_sat_kvb``, rounded up."""
    assert vsize > 0 and rate_sat_kvb >= 0, f"bad fee inputs {vsize} vB, {rate_sat_kvb} sat/kvB"
    return -(-vsize * rate_sat_kvb // VBYTES_PER_KVB)


def rate_of(fee_sat: int, vsize: int) -> int:
    """The feerate a fee pays over a size, in sat/kvB rounded down (never flattering)."""
    assert vsize > 0 and fee_sat >= 0, f"bad feerate inputs {fee_sat} sat, {vsize} vB"
    return fee_sat * VBYTES_PER_KVB // vsize


def output_bytes(script_pubkey: bytes) -> int:
    """Serialized size of one output: value (8) + script length varint + script."""
    return 8 + _varint_bytes(len(script_pubkey)) + len(script_pubkey)


def p2wpkh_spend_vsize(input_count: int, output_scripts: Sequence[bytes]) -> int:
    """Upper bound on the virtual size of a transaction spending ``input_count`` P2WPKH
    inputs to outputs with these locking scripts."""
    assert input_count >= 1 and output_scripts, "a transaction has inputs and outputs"
    weight = (
        _TX_OVERHEAD_WU
        + WITNESS_SCALE_FACTOR * _varint_bytes(input_count)
        + WITNESS_SCALE_FACTOR * _varint_bytes(len(output_scripts))
        + input_count * P2WPKH_INPUT_WU
        + WITNESS_SCALE_FACTOR * sum(output_bytes(script) for script in output_scripts)
    )
    return -(-weight // WITNESS_SCALE_FACTOR)


def p2wpkh_input_vsize() -> int:
    """What one more P2WPKH input adds to a transaction's virtual size, rounded up."""
    return -(-P2WPKH_INPUT_WU // WITNESS_SCALE_FACTOR)


def dust_limit_sat(script_pubkey: bytes) -> int:
    """Bitcoin Core's dust threshold for an output with this script (0 if unspendable).

    An output worth less is non-standard: no node relays the transaction carrying it.
    """
    if script_pubkey[:1] == bytes([OP_RETURN]):
        return 0
    is_witness = (
        len(script_pubkey) >= 4
        and (script_pubkey[0] == 0 or 0x51 <= script_pubkey[0] <= 0x60)
        and script_pubkey[1] == len(script_pubkey) - 2
    )
    spend = _SPEND_SIZE_WITNESS if is_witness else _SPEND_SIZE_LEGACY
    return fee_for(output_bytes(script_pubkey) + spend, DUST_RELAY_FEE_SAT_KVB)


def _varint_bytes(value: int) -> int:
    if value < 0xFD:
        return 1
    if value <= 0xFFFF:
        return 3
    return 5 if value <= 0xFFFF_FFFF else 9


@dataclass(frozen=True, slots=True)
class FeeTarget:
    """What a new transaction must pay: a feerate, and for a replacement a minimum total.

    BIP-125 asks a replacement to pay at least the fees of everything it evicts plus the
    incremental relay feerate over its own size (rules 3 and 4), on top of a higher feerate
    than the transaction it replaces, which the caller puts in ``rate_sat_kvb``.
    """

    rate_sat_kvb: int
    replaced_fee_sat: int = 0
    incremental_rate_sat_kvb: int = 0

    def __post_init__(self) -> None:
        assert self.rate_sat_kvb > 0, "a feerate target is positive"
        assert self.replaced_fee_sat >= 0 and self.incremental_rate_sat_kvb >= 0

    def fee_for(self, vsize: int) -> int:
        own = fee_for(vsize, self.rate_sat_kvb)
        if not self.replaced_fee_sat:
            return own
        return max(own, self.replaced_fee_sat + fee_for(vsize, self.incremental_rate_sat_kvb))
