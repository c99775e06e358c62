"""RTP at scale: 10M+ rounds per game through the real provably-fair path, against raw HMAC.

For each game one representative bet is played ``--rounds`` times (default 10M) from
fixed seeds. A round is what the casino computes to settle a bet: the HMAC-SHA256
digests of the byte stream (crash: one chain step plus the salted HMAC), the float
words, and the game's outcome mapping (``roll_hundredths``, ``result_hundredths``,
``path``, ``tile_order``, ``crash_hundredths``, the functions each game's ``outcome``
wraps). Rounds are tallied by outcome and every distinct outcome is priced once with
the game's exact ``multiplier`` and ``payout`` (a 1 BTC stake in satoshi): the same
sum as pricing each round, without re-deriving the same multiplier millions of times.

The limit, measured in the same run: raw HMAC-SHA256 digests per second, timed in
slices between the game chunks so that load from other processes hits both alike.
It is the faster of the standard library's one-shot ``hmac.digest`` and the
pre-keyed ``HmacSha256`` the engine uses, with the messages built in advance.

Per game it prints the observed RTP, its 99.9% confidence interval (3.29 sigma /
sqrt(N), sigma from the exact payout distribution), whether the exact RTP lies in it,
and rounds per second. The last line is JSON; ``ratio`` is rounds/s over raw
digests/s (target >= 0.5; plinko's 16 rows need 2 digests a round and so cap at 0.5).

    python -m bench.rtp [--rounds 10000000] [--chunk 200000]
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import math
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)

from croupier.games.crash import CrashOutcome, SaltedRounds
from croupier.games.dice import DiceOutcome, roll_hundredths
from croupier.games.engine import parse_bet
from croupier.games.game import payout
from croupier.games.hashchain import walk
from croupier.games.limbo import LimboOutcome
from croupier.games.mines import MinesOutcome, tile_order
from croupier.games.plinko import PlinkoOutcome, path
from croupier.games.registry import GAMES
from croupier.games.rng import HmacSha256, stream_float_words

TARGET_RATIO = 0.5
Z_999 = 3.29
STAKE_SATOSHI = 10**8
SERVER_SEED = hashlib.sha256(b"croupier bench rtp server seed").hexdigest()
CLIENT_SEED = "bench-rtp"
CRASH_CHAIN_SECRET = hashlib.sha256(b"croupier bench rtp crash chain").hexdigest()
CRASH_SALT = hashlib.sha256(b"croupier bench rtp crash salt").hexdigest()
HMAC_SLICE_SHARE = 0.1  # raw digests timed after each chunk, per digest the chunk made
RAW_MESSAGES = 50_000
MAX_ROUNDS = 1_000_000_000


@dataclass
class GameBench:
    """One representative bet, the rounds drawn for it and the time they took."""

    game: str
    params: dict[str, str]
    digests_per_round: int
    draw: Callable[[GameBench, range], None]
    to_outcome: Callable[[Any], Any]
    counts: Counter[Any] = field(default_factory=Counter)
    rounds: int = 0
    seconds: float = 0.0
    state: Any = None  # crash: the last chain hash walked

    @property
    def label(self) -> str:
        return f"{self.game} " + " ".join(f"{k}={v}" for k, v in self.params.items())

    def exact(self) -> tuple[Fraction, float]:
        game = GAMES[self.game]
        setup, choice = parse_bet(game, self.params)
        distribution = game.payout_distribution(setup, choice)
        return distribution.rtp, distribution.standard_deviation

    def observed_rtp(self) -> Fraction:
        game = GAMES[self.game]
        setup, choice = parse_bet(game, self.params)
        paid = sum(
            count * payout(STAKE_SATOSHI, game.multiplier(setup, choice, self.to_outcome(key)))
            for key, count in self.counts.items()
        )
        return Fraction(paid, self.rounds * STAKE_SATOSHI)


def _draw_dice(bench: GameBench, nonces: range) -> None:
    counts = bench.counts
    for words in stream_float_words(SERVER_SEED, CLIENT_SEED, nonces, 1):
        counts[roll_hundredths(words[0])] += 1


def _draw_limbo(bench: GameBench, nonces: range) -> None:
    counts, result = bench.counts, GAMES["limbo"].result_hundredths  # type: ignore[attr-defined]
    for words in stream_float_words(SERVER_SEED, CLIENT_SEED, nonces, 1):
        counts[result(words[0])] += 1


def _draw_plinko(bench: GameBench, nonces: range) -> None:
    counts, rows = bench.counts, int(bench.params["rows"])
    for words in stream_float_words(SERVER_SEED, CLIENT_SEED, nonces, rows):
        counts[sum(path(words))] += 1  # the multiplier reads only the bucket


def _draw_mines(bench: GameBench, nonces: range) -> None:
    counts, mines = bench.counts, int(bench.params["mines"])
    for words in stream_float_words(SERVER_SEED, CLIENT_SEED, nonces, mines):
        counts[tuple(tile_order(words))] += 1


def _draw_crash(bench: GameBench, nonces: range) -> None:
    counts, salted = bench.counts, SaltedRounds(CRASH_SALT)
    crash_point = GAMES["crash"].crash_hundredths  # type: ignore[attr-defined]
    game_hash = bench.state
    for game_hash in walk(bench.state, len(nonces)):
        counts[crash_point(salted.randomness(game_hash))] += 1
    bench.state = game_hash


def benches() -> list[GameBench]:
    return [
        GameBench("dice", {"target": "50.50", "direction": "over"}, 1, _draw_dice, DiceOutcome),
        GameBench("limbo", {"target": "2"}, 1, _draw_limbo, LimboOutcome),
        GameBench(
            "plinko",
            {"rows": "16", "risk": "high"},
            2,
            _draw_plinko,
            lambda bucket: PlinkoOutcome((1,) * bucket + (0,) * (16 - bucket)),
        ),
        GameBench(
            "mines",
            {"mines": "3", "picks": "0,1,2,3,4"},
            1,
            _draw_mines,
            lambda order: MinesOutcome(frozenset(order)),
        ),
        GameBench(
            "crash",
            {"target": "2"},
            1,  # plus one SHA-256 chain step
            _draw_crash,
            CrashOutcome,
            state=CRASH_CHAIN_SECRET,
        ),
    ]


@dataclass
class RawHmac:
    """Raw digests/s over prepared messages, accumulated in slices through the run."""

    messages: list[bytes]
    digest: Callable[[bytes], bytes]
    digests: int = 0
    seconds: float = 0.0

    def time_slice(self, count: int) -> None:
        digest, messages = self.digest, self.messages
        start = time.perf_counter()
        for index in range(count):
            digest(messages[index % RAW_MESSAGES])
        self.seconds += time.perf_counter() - start
        self.digests += count

    @property
    def per_s(self) -> float:
        return self.digests / self.seconds


def raw_hmacs() -> tuple[RawHmac, RawHmac]:
    key = SERVER_SEED.encode("ascii")
    messages = [f"{CLIENT_SEED}:{n}:0".encode() for n in range(RAW_MESSAGES)]
    keyed = HmacSha256(key)
    return (
        RawHmac(messages, keyed.digest),
        RawHmac(messages, lambda message: hmac.digest(key, message, "sha256")),
    )


def chunks(rounds: int, size: int) -> Iterable[range]:
    for start in range(0, rounds, size):
        yield range(start, min(start + size, rounds))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=10_000_000, help="rounds per game")
    parser.add_argument("--chunk", type=int, default=200_000)
    args = parser.parse_args()
    if not 1 <= args.rounds <= MAX_ROUNDS or not 1_000 <= args.chunk <= 10_000_000:
        parser.error(f"--rounds must be 1..{MAX_ROUNDS} and --chunk 1000..10000000")

    console = Console(stderr=True)
    keyed, stdlib = raw_hmacs()
    games = benches()
    columns = (
        TextColumn("{task.description:<32}"),
        BarColumn(),
        TaskProgressColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as progress:
        tasks = {bench.game: progress.add_task(bench.label, total=args.rounds) for bench in games}
        for bench in games:
            for nonces in chunks(args.rounds, args.chunk):
                start = time.perf_counter()
                bench.draw(bench, nonces)
                bench.seconds += time.perf_counter() - start
                bench.rounds += len(nonces)
                raw_slice = max(1, int(len(nonces) * bench.digests_per_round * HMAC_SLICE_SHARE))
                keyed.time_slice(raw_slice)
                stdlib.time_slice(raw_slice)
                progress.update(tasks[bench.game], advance=len(nonces))

    hmac_per_s = max(keyed.per_s, stdlib.per_s)
    per_game: dict[str, dict[str, Any]] = {}
    for bench in games:
        exact, sigma = bench.exact()
        observed = bench.observed_rtp()
        half_width = Z_999 * sigma / math.sqrt(bench.rounds)
        inside = abs(float(observed - exact)) <= half_width
        rate = bench.rounds / bench.seconds
        per_game[bench.game] = {
            "bet": bench.label,
            "rounds": bench.rounds,
            "observed_rtp": round(float(observed), 6),
            "exact_rtp": round(float(exact), 6),
            "ci_999": [
                round(float(observed) - half_width, 6),
                round(float(observed) + half_width, 6),
            ],
            "exact_in_ci": inside,
            "rounds_per_s": round(rate),
            "digests_per_round": bench.digests_per_round,
            "ratio": round(rate / hmac_per_s, 3),
        }
        console.print(
            f"{bench.label:<32} RTP {float(observed):.4%} "
            f"(99.9% CI {float(observed) - half_width:.4%} .. {float(observed) + half_width:.4%}; "
            f"exact {float(exact):.4%} {'inside' if inside else '[red]OUTSIDE[/]'}), "
            f"{rate:,.0f} rounds/s"
        )
    total_rounds = sum(bench.rounds for bench in games)
    rounds_per_s = total_rounds / sum(bench.seconds for bench in games)
    ratio = rounds_per_s / hmac_per_s
    console.print(
        f"all games: {rounds_per_s:,.0f} rounds/s vs raw HMAC-SHA256 {hmac_per_s:,.0f} digests/s"
        f" (stdlib hmac.digest {stdlib.per_s:,.0f}/s): ratio {ratio:.2f} (target >= {TARGET_RATIO})"
    )
    print(
        json.dumps(
            {
                "benchmark": "rtp",
                "rounds_per_game": args.rounds,
                "rounds_per_s": round(rounds_per_s),
                "hmac_per_s": round(hmac_per_s),
                "ratio": round(ratio, 3),
                "target": TARGET_RATIO,
                "passed": ratio >= TARGET_RATIO
                and all(game["exact_in_ci"] for game in per_game.values()),
                "stdlib_hmac_digest_per_s": round(stdlib.per_s),
                "keyed_hmac_per_s": round(keyed.per_s),
                "games": per_game,
            }
        )
    )


if __name__ == "__main__":
    main()
