"""What the payment routes share: the app state and the payment workflows' client."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from croupier.api.state import AppState, app_state
from croupier.workflows.payments_client import PaymentsClient

State = Annotated[AppState, Depends(app_state)]


def payments_client(request: Request) -> PaymentsClient:
    state = app_state(request)
    return PaymentsClient(state.temporal, state.settings.temporal_task_queue)


Payments = Annotated[PaymentsClient, Depends(payments_client)]
