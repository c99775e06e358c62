"""The three Bitcoin networks Croupier runs on, with the constants that differ between them.

Address prefixes are Bitcoin Core's (``chainparams.cpp``), not bitcoinlib's: bitcoinlib's
"regtest" network reuses mainnet's base58 version bytes, so a regtest P2PKH address would
come out as ``1...`` where bitcoind writes and expects ``m...``/``n...``. Croupier encodes
and checks addresses with this table and uses bitcoinlib only for keys and transactions.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class NetworkParams:
    """What an address, a derivation path and an extended key look like on one network."""

    bech32_hrp: str
    p2pkh_version: int
    p2sh_version: int
    bip44_coin_type: int  # BIP-44 coin type: 0 on mainnet, 1 on every test network
    bitcoinlib_name: str  # the bitcoinlib network whose serialisation (zpub/vpub, WIF) is right


class BtcNetwork(StrEnum):
    """``CROUPIER_BTC_NETWORK``: the value is bitcoind's and bitcoinlib's network name."""

    BITCOIN = "bitcoin"
    TESTNET = "testnet"
    REGTEST = "regtest"

    @property
    def params(self) -> NetworkParams:
        return _PARAMS[self]


_PARAMS: dict[BtcNetwork, NetworkParams] = {
    BtcNetwork.BITCOIN: NetworkParams("bc", 0x00, 0x05, 0, "bitcoin"),
    BtcNetwork.TESTNET: NetworkParams("tb", 0x6F, 0xC4, 1, "testnet"),
    # Regtest keys serialise as testnet's (tprv/vpub, WIF 'c...'), as in Bitcoin Core.
    BtcNetwork.REGTEST: NetworkParams("bcrt", 0x6F, 0xC4, 1, "testnet"),
}
