"""Treasury movements on real services: a private Anvil per module, the session's
PostgreSQL and Temporal dev server, and a restartable worker of the module's own."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio
from sqlalchemy import Engine
from temporalio.client import Client

from croupier.core.settings import Settings
from croupier.treasury.signer import HDSigner
from tests.integration.payments.conftest import keystore_dir as keystore_dir
from tests.integration.payments.conftest import test_signer as test_signer
from tests.integration.sweeps.support import TreasuryStack, treasury_stack


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def treasury(
    anvil_binary: Path,
    settings: Settings,
    engine: Engine,
    temporal_client: Client,
    keystore_dir: Path,
    test_signer: HDSigner,
) -> AsyncIterator[TreasuryStack]:
    async with treasury_stack(
        anvil_binary=anvil_binary,
        settings=settings,
        engine=engine,
        temporal=temporal_client,
        keystore_dir=keystore_dir,
        signer=test_signer,
    ) as stack:
        yield stack
