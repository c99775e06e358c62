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
    genesis_hash: str  # block 0: tells a node of this network from any other


class BtcNetwork(StrEnum):
    """``CROUPIER_BTC_NETWORK``: the value is bitcoind's and bitcoinlib's network name."""

    BITCOIN = "bitcoin"
    TESTNET = "testnet"
    REGTEST = "regtest"

    @property
    def params(self) -> NetworkParams:
        return _PARAMS[self]


# Genesis block hashes from Bitcoin Core's chainparams.cpp ("testnet" is testnet3).
_MAINNET_GENESIS = "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"
_TESTNET3_GENESIS = "000000000933ea01ad0ee984209779baaec3ced90fa3f408719526f8d77f4943"
_REGTEST_GENESIS = "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206"

_PARAMS: dict[BtcNetwork, NetworkParams] = {
    BtcNetwork.BITCOIN: NetworkParams("bc", 0x00, 0x05, 0, "bitcoin", _MAINNET_GENESIS),
    BtcNetwork.TESTNET: NetworkParams("tb", 0x6F, 0xC4, 1, "testnet", _TESTNET3_GENESIS),
    # Regtest keys serialise as testnet's (tprv/vpub, WIF 'c...'), as in Bitcoin Core.
    BtcNetwork.REGTEST: NetworkParams("bcrt", 0x6F, 0xC4, 1, "testnet", _REGTEST_GENESIS),
}
