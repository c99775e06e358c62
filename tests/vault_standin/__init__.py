"""A small HTTP server that speaks the slice of Vault's API Croupier uses, for tests only.

No Vault server can be installed on the test machines, so the Vault keystore is tested
against this stand-in over real HTTP through the real hvac client. It follows Vault's
documented shapes and status codes for what it implements and implements nothing else:

- KV v2: ``GET /v1/{mount}/data/{path}[?version=N]`` and ``POST|PUT`` to the same
  path, with versions, the ``data``/``metadata`` envelope, ``options.cas``
  check-and-set, ``404 {"errors": []}`` for a missing secret and 400s for bad bodies.
- ``GET|HEAD /v1/sys/health`` (200, or 503 when sealed) and ``GET /v1/sys/seal-status``.
- Token auth (``X-Vault-Token``; 403 ``permission denied`` for a missing, unknown or
  revoked token, or one lacking the read/create/update capability a request needs).
- AppRole login ``POST /v1/auth/approle/login`` returning a client token.
- Sealed mode: every other endpoint answers 503 ``{"errors": ["Vault is sealed"]}``.

Not implemented (answered 404 like an unknown route): KV metadata, delete, undelete
and destroy, KV v1, policies beyond the three capabilities, token TTLs and renewal,
leases, namespaces, response wrapping, TLS.
"""

from tests.vault_standin.server import VaultStandIn

__all__ = ["VaultStandIn"]
