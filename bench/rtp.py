"""RTP at scale: 10M+ rounds per game through the batch game path, against raw HMAC.

For each game one representative bet is played ``--rounds`` times (default 10M) from
fixed seeds, over consecutive nonces (crash: consecutive rounds of one hash chain), in
chunks of ``--chunk`` rounds through ``croupier.games.batch``: the simulation path the
Monte Carlo suite also uses, which tests/unit/games/test_batch.py proves equal to
``play`` / ``play_crash`` round by round. A round is what the casino computes to
settle a bet: its HMAC-SHA256 digests (crash: one SHA-256 chain step plus the salted
HMAC), the float words, and the game's outcome. Rounds are tallied by outcome and
every distinct outcome is priced once with the game's exact ``multiplier`` and
``payout`` (a 1 BTC stake in satoshi): the same sum as pricing each round.

The limit, measured in the same run: raw HMAC-SHA256 digests per second over messages
built in advance, timed in slices between the game chunks. It is the fastest of three
raw paths: the standard library's one-shot ``hmac.digest``, the pre-keyed
``HmacSha256.digest`` called per message, and ``HmacSha256.digests``, the very loop
the batch path makes its digests with, so the limit is never slower than the engine's
own hashing and the ratio prices only what a round adds to its digests.

Both sides are timed in this process's CPU seconds (``time.process_time``): the
machine is shared, and other processes' load would otherwise decide the ratio. The
wall-clock figures are reported beside them (``wall_*``).

Per game it prints the observed RTP, its 99.9% confidence interval (3.29 sigma /
sqrt(N), sigma from the exact payout distribution), whether the exact RTP lies in it,
and rounds per second. The last line is JSON: ``ratio`` is all rounds over all game
time, per second, divided by raw digests per second (target >= 0.5). Per game it also
gives ``digests_per_round`` (and crash's ``sha256_per_round``), which cap that game's
ratio: plinko's 16 rows read 16 floats, 2 digests, so its ratio is at most 0.5;
``digest_ratio`` (ratio x digests per round) shows how close each game comes to it.

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
from typing import Any, TypeVar

import numpy as np
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)

from croupier.games.batch import (
    MAX_BATCH_ROUNDS,
    Words,
    chain_randomness,
    crash_points,
    dice_rolls,
    float_word_matrix,
    limbo_results,
    mines_tiles,
    plinko_buckets,
)
from croupier.games.crash import Crash, CrashOutcome
from croupier.games.dice import DiceOutcome
from croupier.games.engine import parse_bet
from croupier.games.game import Outcome, payout
from croupier.games.limbo import Limbo, LimboOutcome
from croupier.games.mines import TILES, MinesOutcome
from croupier.games.plinko import PlinkoOutcome
from croupier.games.registry import GAMES
from croupier.games.rng import HmacSha256

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
PLINKO_ROWS = 16
MINES = 3
# Outcome keys below this are tallied by bincount (dice rolls, plinko buckets, ordered
# 3-mine boards, limbo and crash results up to 163.83x); the rare rest by sorting.
DENSE_KEYS = 2**14

GameT = TypeVar("GameT")


def _registered(name: str, kind: type[GameT]) -> GameT:
    game = GAMES[name]
    assert isinstance(game, kind), game
    return game


LIMBO = _registered("limbo", Limbo)
CRASH = _registered("crash", Crash)


@dataclass
class Clock:
    """CPU and wall seconds spent inside ``with clock:`` blocks, summed."""

    cpu_s: float = 0.0
    wall_s: float = 0.0
    _started: tuple[float, float] = (0.0, 0.0)

    def __enter__(self) -> None:
        self._started = (time.process_time(), time.perf_counter())

    def __exit__(self, *exc: object) -> None:
        cpu_start, wall_start = self._started
        self.cpu_s += time.process_time() - cpu_start
        self.wall_s += time.perf_counter() - wall_start


@dataclass
class GameBench:
    """One representative bet, the rounds drawn for it and the time they took."""

    game: str
    params: dict[str, str]
    digests_per_round: int
    draw: Callable[[GameBench, range], Words]  # outcome keys of the chunk's rounds
    to_outcome: Callable[[int], Outcome]
    sha256_per_round: int = 0  # crash: the hash-chain step
    counts: Counter[int] = field(default_factory=Counter)
    rounds: int = 0
    clock: Clock = field(default_factory=Clock)
    state: Any = None  # crash: the last chain hash walked

    @property
    def label(self) -> str:
        return f"{self.game} " + " ".join(f"{k}={v}" for k, v in self.params.items())

    def play_chunk(self, nonces: range) -> None:
        with self.clock:
            tally(self.counts, self.draw(self, nonces))
        self.rounds += len(nonces)

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


def tally(counts: Counter[int], keys: Words) -> None:
    """Add how many rounds gave each outcome key: the common small keys by bincount,
    the rare large ones (limbo and crash results above 163.83x) by sorting."""
    dense = keys < DENSE_KEYS
    bins = np.bincount(keys[dense].astype(np.intp), minlength=DENSE_KEYS)
    seen = np.flatnonzero(bins)
    counts.update(dict(zip(seen.tolist(), bins[seen].tolist(), strict=True)))
    rare, rare_counts = np.unique(keys[~dense], return_counts=True)
    counts.update(dict(zip(rare.tolist(), rare_counts.tolist(), strict=True)))


def _words(nonces: range, count: int) -> Words:
    return float_word_matrix(SERVER_SEED, CLIENT_SEED, nonces, count)


def _draw_dice(bench: GameBench, nonces: range) -> Words:
    return dice_rolls(_words(nonces, 1)[:, 0])


def _draw_limbo(bench: GameBench, nonces: range) -> Words:
    return limbo_results(LIMBO, _words(nonces, 1)[:, 0])


def _draw_plinko(bench: GameBench, nonces: range) -> Words:
    return plinko_buckets(_words(nonces, PLINKO_ROWS))  # the multiplier reads the bucket


_MINE_KEY_PLACES = TILES ** np.arange(MINES, dtype=np.uint64)


def _draw_mines(bench: GameBench, nonces: range) -> Words:
    """The board's tiles in pick order as base-25 digits, lowest digit first."""
    tiles = mines_tiles(_words(nonces, MINES)).astype(np.uint64)
    keys: Words = tiles @ _MINE_KEY_PLACES
    return keys


def _mines_outcome(key: int) -> MinesOutcome:
    return MinesOutcome(frozenset(key // TILES**place % TILES for place in range(MINES)))


def _draw_crash(bench: GameBench, nonces: range) -> Words:
    randomness, bench.state = chain_randomness(CRASH_SALT, bench.state, len(nonces))
    return crash_points(CRASH, randomness)


def benches() -> list[GameBench]:
    return [
        GameBench("dice", {"target": "50.50", "direction": "over"}, 1, _draw_dice, DiceOutcome),
        GameBench("limbo", {"target": "2"}, 1, _draw_limbo, LimboOutcome),
        GameBench(
            "plinko",
            {"rows": str(PLINKO_ROWS), "risk": "high"},
            2,
            _draw_plinko,
            lambda bucket: PlinkoOutcome((1,) * bucket + (0,) * (PLINKO_ROWS - bucket)),
        ),
        GameBench(
            "mines", {"mines": str(MINES), "picks": "0,1,2,3,4"}, 1, _draw_mines, _mines_outcome
        ),
        GameBench(
            "crash",
            {"target": "2"},
            1,
            _draw_crash,
            CrashOutcome,
            sha256_per_round=1,
            state=CRASH_CHAIN_SECRET,
        ),
    ]


@dataclass
class RawHmac:
    """Raw digests/s of one HMAC path over prepared messages, timed in slices."""

    name: str
    digest_all: Callable[[list[bytes]], object]
    digests: int = 0
    clock: Clock = field(default_factory=Clock)

    def time_slice(self, messages: list[bytes], count: int) -> None:
        batches = [messages] * (count // len(messages)) + [messages[: count % len(messages)]]
        with self.clock:
            for batch in batches:
                self.digest_all(batch)
        self.digests += count

    @property
    def per_s(self) -> float:
        return self.digests / self.clock.cpu_s

    @property
    def wall_per_s(self) -> float:
        return self.digests / self.clock.wall_s


def raw_hmacs() -> list[RawHmac]:
    key = SERVER_SEED.encode("ascii")
    keyed = HmacSha256(key)

    def keyed_per_message(messages: list[bytes]) -> None:
        digest = keyed.digest
        for message in messages:
            digest(message)

    def stdlib_per_message(messages: list[bytes]) -> None:
        for message in messages:
            hmac.digest(key, message, "sha256")

    return [
        RawHmac("keyed_hmac_digests_loop", keyed.digests),
        RawHmac("keyed_hmac_digest_per_message", keyed_per_message),
        RawHmac("stdlib_hmac_digest", stdlib_per_message),
    ]


def chunks(rounds: int, size: int) -> Iterable[range]:
    for start in range(0, rounds, size):
        yield range(start, min(start + size, rounds))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=10_000_000, help="rounds per game")
    parser.add_argument("--chunk", type=int, default=200_000)
    args = parser.parse_args()
    if not 1 <= args.rounds <= MAX_ROUNDS or not 1_000 <= args.chunk <= MAX_BATCH_ROUNDS:
        parser.error(f"--rounds must be 1..{MAX_ROUNDS} and --chunk 1000..{MAX_BATCH_ROUNDS}")

    console = Console(stderr=True)
    messages = [f"{CLIENT_SEED}:{n}:0".encode() for n in range(RAW_MESSAGES)]
    raws = raw_hmacs()
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
            hashes_per_round = bench.digests_per_round + bench.sha256_per_round
            for nonces in chunks(args.rounds, args.chunk):
                bench.play_chunk(nonces)
                raw_slice = max(1, int(len(nonces) * hashes_per_round * HMAC_SLICE_SHARE))
                for raw in raws:
                    raw.time_slice(messages, raw_slice)
                progress.update(tasks[bench.game], advance=len(nonces))

    hmac_per_s = max(raw.per_s for raw in raws)
    wall_hmac_per_s = max(raw.wall_per_s for raw in raws)
    per_game = {bench.game: _report(bench, hmac_per_s, console) for bench in games}
    total_rounds = sum(bench.rounds for bench in games)
    rounds_per_s = total_rounds / sum(bench.clock.cpu_s for bench in games)
    wall_rounds_per_s = total_rounds / sum(bench.clock.wall_s for bench in games)
    ratio = rounds_per_s / hmac_per_s
    console.print(
        f"all games: {rounds_per_s:,.0f} rounds/s vs raw HMAC-SHA256 {hmac_per_s:,.0f} digests/s"
        f" ({', '.join(f'{raw.name} {raw.per_s:,.0f}/s' for raw in raws)}): "
        f"ratio {ratio:.2f} (target >= {TARGET_RATIO})"
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
                "clock": "process_cpu",
                "raw_hmac_per_s": {raw.name: round(raw.per_s) for raw in raws},
                "wall_rounds_per_s": round(wall_rounds_per_s),
                "wall_hmac_per_s": round(wall_hmac_per_s),
                "wall_ratio": round(wall_rounds_per_s / wall_hmac_per_s, 3),
                "games": per_game,
            }
        )
    )


def _report(bench: GameBench, hmac_per_s: float, console: Console) -> dict[str, Any]:
    exact, sigma = bench.exact()
    observed = bench.observed_rtp()
    half_width = Z_999 * sigma / math.sqrt(bench.rounds)
    low, high = float(observed) - half_width, float(observed) + half_width
    inside = low <= float(exact) <= high
    rate = bench.rounds / bench.clock.cpu_s
    console.print(
        f"{bench.label:<32} RTP {float(observed):.4%} (99.9% CI {low:.4%} .. {high:.4%}; "
        f"exact {float(exact):.4%} {'inside' if inside else '[red]OUTSIDE[/]'}), "
        f"{rate:,.0f} rounds/s"
    )
    return {
        "bet": bench.label,
        "rounds": bench.rounds,
        "observed_rtp": round(float(observed), 6),
        "exact_rtp": round(float(exact), 6),
        "ci_999": [round(low, 6), round(high, 6)],
        "exact_in_ci": inside,
        "rounds_per_s": round(rate),
        "digests_per_round": bench.digests_per_round,
        "sha256_per_round": bench.sha256_per_round,
        "ratio": round(rate / hmac_per_s, 3),
        "digest_ratio": round(rate * bench.digests_per_round / hmac_per_s, 3),
    }


if __name__ == "__main__":
    main()
