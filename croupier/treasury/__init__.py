"""Key custody: the HD master seed, where it is kept, and the only code that signs.

- ``secret``: ``Secret``, the wrapper that keeps key material out of reprs, logs and
  exception text.
- ``keystore``: the ``KeyStore`` protocol (load/store the seed) and the factory that
  picks the local encrypted file or Vault from settings.
- ``hd``: BIP-39 mnemonics and BIP-32/BIP-44 derivation (one implementation for every
  chain).
- ``signer``: ``HDSigner``, which turns the seed into addresses and signatures. Private
  keys never leave this package: callers get addresses and signed transactions.
- ``sweep_policy``, ``consolidation``: pure hot/cold policy (how much to sweep to cold or
  ask back from it) and deposit-address sweep planning; ``croupier.sweeps`` books them.
"""
