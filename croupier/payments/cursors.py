"""Where a chain's deposit scanner stands: its remembered headers, kept in the database.

The window lives here rather than in workflow state so a scanner's history stays small
(one short activity per step), and a scanner that is stopped and started again resumes
from the last block whose deposits were all handed over, checking that block against
the node first: a reorg that happened while it was down is caught like any other.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from croupier.chains.base import BlockHeader
from croupier.chains.reorg import MAX_WINDOW_BLOCKS, is_linked
from croupier.payments.tables import chain_cursors


def lock_window(conn: Connection, chain: str) -> tuple[BlockHeader, ...] | None:
    """The remembered window, locked for this transaction; None if the chain has none yet.

    The lock makes a scanner step exclusive: an activity retried while its first attempt
    still runs waits for it instead of scanning the same blocks at the same time.
    """
    conn.execute(
        pg_insert(chain_cursors)
        .values(chain=chain, window_headers=[], tip_number=None)
        .on_conflict_do_nothing()
    )
    stored = conn.execute(
        select(chain_cursors.c.window_headers)
        .where(chain_cursors.c.chain == chain)
        .with_for_update()
    ).scalar_one()
    return _headers(stored) if stored else None


def save_window(conn: Connection, chain: str, window: Sequence[BlockHeader]) -> None:
    """Remember ``window`` (oldest first, never empty: a rewind keeps the common ancestor)."""
    assert window and is_linked(window) and len(window) <= MAX_WINDOW_BLOCKS
    conn.execute(
        chain_cursors.update()
        .where(chain_cursors.c.chain == chain)
        .values(
            window_headers=[_json(header) for header in window],
            tip_number=window[-1].number,
            updated_at=func.now(),
        )
    )


def reset_window(conn: Connection, chain: str) -> None:
    """Forget the window, so the next step starts from the scanner's start block."""
    conn.execute(
        chain_cursors.update()
        .where(chain_cursors.c.chain == chain)
        .values(window_headers=[], tip_number=None, updated_at=func.now())
    )


def _json(header: BlockHeader) -> dict[str, Any]:
    return {"number": header.number, "hash": header.hash, "parent_hash": header.parent_hash}


def _headers(rows: list[dict[str, Any]]) -> tuple[BlockHeader, ...]:
    headers = tuple(
        BlockHeader(number=int(row["number"]), hash=row["hash"], parent_hash=row["parent_hash"])
        for row in rows
    )
    assert is_linked(headers), "a stored scanner window is always one linked chain"
    return headers
