"""Chains: a ``ChainClient`` per chain family, block scanning, reorg detection, tx building."""
