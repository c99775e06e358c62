"""Bitcoin: BIP-84 deposit addresses, UTXO coin selection, P2WPKH signing with opt-in RBF,
and a ``ChainClient`` over a small ``BitcoinBackend`` (bitcoind JSON-RPC in deployments).

Money is satoshis (``int``); feerates are satoshis per 1000 virtual bytes (``_sat_kvb``),
bitcoind's own internal unit, so no feerate is ever a float.
"""
