"""``POST /verify/{game}``: the public verifier, for anyone, signed in or not.

It runs the same ``croupier.games`` code as the settlement; docs/provably-fair.md
describes the algorithm for those who would rather re-implement it.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from croupier.api.auth.models import problem_responses
from croupier.api.play.models import VerifyRequest
from croupier.api.play.runtime import VerifyLimit
from croupier.games.verifier import verify

router = APIRouter(tags=["fairness"])


@router.post(
    "/verify/{game}",
    responses=problem_responses(422, 429),
    dependencies=[VerifyLimit],
)
def verify_round(
    game: Annotated[str, Path(min_length=1, max_length=32, examples=["dice"])],
    body: VerifyRequest,
) -> dict[str, Any]:
    """Recompute a round: its outcome, and its multiplier when ``params`` hold the bet's
    choice. Compare ``server_seed_hash`` with the hash you were shown before betting."""
    return verify(
        game,
        body.params,
        server_seed=body.server_seed,
        client_seed=body.client_seed,
        nonce=body.nonce,
        game_hash=body.game_hash,
        salt=body.salt,
    )
