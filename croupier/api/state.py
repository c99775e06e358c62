"""What the app holds for the lifetime of the process, and the dependencies that hand it out."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from sqlalchemy import Engine
from temporalio.client import Client

from croupier.core.settings import Settings


@dataclass(frozen=True)
class AppState:
    settings: Settings
    engine: Engine
    temporal: Client


def app_state(request: Request) -> AppState:
    state = request.app.state.croupier
    assert isinstance(state, AppState)
    return state
