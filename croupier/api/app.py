"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from croupier import __version__
from croupier.api import crash, health, metrics, monitoring, problems, rbac, treasury
from croupier.api.auth import account, routes, runtime
from croupier.api.bonus import routes as bonus_routes
from croupier.api.compliance import kyc, limits, reviews
from croupier.api.compliance.uploads import UploadSizeLimit
from croupier.api.payments import deposits, held_deposits, withdrawals
from croupier.api.play import bets, fairness, faucet, mines, verify, wallet
from croupier.api.play import runtime as play_runtime
from croupier.api.state import AppState
from croupier.core.clock import Clock, SystemClock
from croupier.core.settings import Settings
from croupier.ledger.db import make_engine
from croupier.workflows.client import connect


def create_app(settings: Settings, *, clock: Clock | None = None) -> FastAPI:
    """Build the app; the database and Temporal are connected in the lifespan.

    ``clock`` is injectable so tests can expire tokens and refill rate limits at will.
    """
    if settings.database_url is None:
        raise ValueError("create_app needs settings.database_url (croupier up resolves it)")
    database_url = settings.database_url

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(
            database_url,
            pool_size=settings.database_pool_size,
            connect_timeout_s=settings.database_connect_timeout_s,
        )
        client = await connect(settings.temporal_address, settings.temporal_namespace)
        app.state.croupier = AppState(settings=settings, engine=engine, temporal=client)
        try:
            yield
        finally:
            engine.dispose()

    app = FastAPI(
        title="Croupier",
        version=__version__,
        description="The money core of an online crypto casino.",
        lifespan=lifespan,
        # Every API route passes the RBAC table; see croupier.api.rbac.
        dependencies=[Depends(rbac.authorize)],
    )
    problems.install(app)
    runtime.install(app, settings, clock or SystemClock())
    rbac.install(app)
    play_runtime.install(app, settings)
    app.include_router(health.router)
    app.include_router(routes.router)
    app.include_router(account.router)
    for play_router in (bets, mines, fairness, verify, wallet, faucet):
        app.include_router(play_router.router)
    app.include_router(crash.router)
    app.include_router(metrics.router)
    app.include_router(monitoring.router)
    app.include_router(
        kyc.router, form_limits={"max_files": settings.kyc_max_documents, "max_fields": 20}
    )
    app.add_middleware(
        UploadSizeLimit, method="POST", path="/kyc", max_bytes=kyc.upload_body_limit(settings)
    )
    app.include_router(reviews.router)
    app.include_router(limits.router)
    app.include_router(deposits.router)
    app.include_router(withdrawals.router)
    app.include_router(held_deposits.router)
    app.include_router(treasury.router)
    app.include_router(bonus_routes.router)
    app.add_middleware(metrics.RequestMetrics)
    return app
