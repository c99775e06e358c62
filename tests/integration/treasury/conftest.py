"""The Vault stand-in, served once per session on a free local port."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.vault_standin import VaultStandIn


@pytest.fixture(scope="session")
def vault_standin() -> Iterator[VaultStandIn]:
    with VaultStandIn(kv_mounts=("secret",)).running() as server:
        yield server
