"""Queueing a send at the Hot Wallet Sender: the one way any coin leaves the hot address.

The sender owns the hot address's nonces, so withdrawals and treasury movements (sweeps
to cold, gas top-ups of deposit addresses) alike hand it a ``SendRequest`` by
signal-with-start: the first request starts it, later ones join the running sender,
and a repeat of a request it already holds is ignored there.
"""

from __future__ import annotations

from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy

from croupier.activities.hot_wallet import SendRequest
from croupier.workflows.hot_wallet_sender import HotWalletSenderInput, HotWalletSenderWorkflow


async def signal_sender(
    client: Client,
    sender_id: str,
    request: SendRequest,
    *,
    chain: str,
    hot_index: int,
    task_queue: str,
) -> None:
    """Queue ``request`` at sender ``sender_id``, starting the sender if it is not running."""
    await client.start_workflow(
        HotWalletSenderWorkflow.run,
        HotWalletSenderInput(chain=chain, hot_index=hot_index),
        id=sender_id,
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        start_signal="send",
        start_signal_args=[request],
        static_summary=f"Hot wallet sender for {sender_id.rsplit('-', 1)[-1]}",
    )
