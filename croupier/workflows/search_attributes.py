"""Custom search attributes every Croupier workflow may set, so ops can filter in Temporal UI.

The dev server registers them at start (``croupier up`` and the test fixtures pass
them as ``--search-attribute``); production clusters register them once with
``temporal operator search-attribute create``.
"""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

PLAYER_ID = SearchAttributeKey.for_keyword("CroupierPlayerId")
GAME = SearchAttributeKey.for_keyword("CroupierGame")
CURRENCY = SearchAttributeKey.for_keyword("CroupierCurrency")
STATUS = SearchAttributeKey.for_keyword("CroupierStatus")
FLOW = SearchAttributeKey.for_keyword("CroupierFlow")

ALL = (PLAYER_ID, GAME, CURRENCY, STATUS, FLOW)


def dev_server_flags() -> list[str]:
    """``--search-attribute`` flags registering every key on a dev server."""
    flags: list[str] = []
    for key in ALL:
        flags += ["--search-attribute", f"{key.name}=Keyword"]
    return flags
