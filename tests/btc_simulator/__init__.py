"""A regtest Bitcoin chain simulator: a TEST stand-in for bitcoind, never for production.

No bitcoind can be installed where the suite runs, so ``RegtestSimulator`` plays one:
blocks with real headers (merkle roots, regtest proof of work, parent links starting
from the real regtest genesis block), a UTXO set with undo data, a mempool that
validates every transaction (BIP-143 signatures checked by bitcoinlib against the
spent outputs, double spends, missing inputs, coinbase maturity, dust, minimum relay
fee, BIP-125 replacement rules), mining on demand, and reorganisations.

``rpc_server`` serves it over bitcoind's JSON-RPC wire format so that
``croupier.chains.bitcoin.rpc.BitcoindRpc`` is exercised over real HTTP. No real
bitcoind is exercised anywhere in the tests; docker-compose's bitcoind is where the
JSON-RPC backend meets the real thing.
"""
