"""Ledger postings per second against pgbench's tpcb-like transactions, same server, same run.

A scratch database is created on the server of ``CROUPIER_DATABASE_URL``, or on an
embedded PostgreSQL (pgserver) when it is unset, and dropped at the end. In it:

- the limit: ``pgbench -i`` then ``pgbench -b tpcb-like -c C -j C -T S`` (five
  statements and a commit per transaction, the classic OLTP yardstick; pgbench's
  defaults otherwise: scale 1, simple query protocol, synchronous commit on);
- single postings: C threads, each posting one bet or win at a time with
  ``croupier.ledger.transfer`` on an ``Engine`` (each posting its own transaction, the way
  an activity posts), between 1,000 funded players and the house; about one bet in two
  wins, paid as a separate posting. Run twice: with the house sharded as in production
  (``HOUSE_SHARDS`` balance rows), and with a one-row house, to show what the shards buy;
- batch postings: the same bet/win mix through ``transfer_batch``, ``--batch-size`` items
  per call, ``--batch-clients`` concurrent callers.

Both sides keep their connections open and send no pings (the ledger's engine is
``make_engine(..., pre_ping=False)``, as a worker's posting engine may be: postings are
idempotent and retried); both commit synchronously. The phases alternate for ``--rounds``
rounds and each keeps its best round, so a burst of load from another process on the
machine does not decide a ratio. Targets:
``single_ratio >= 1.0`` and ``batch_ratio >= 10``. The last line is JSON.

    python -m bench.ledger [--clients 8] [--seconds 8] [--rounds 3] [--batch-size 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import Engine

from croupier.core.money import Currency
from croupier.ledger import (
    AccountKind,
    AccountSpec,
    TransferRequest,
    TransferType,
    migrate,
    open_account,
    reconcile,
    transfer,
    transfer_batch,
)
from croupier.ledger.db import drop_database, ensure_database, make_engine, redact
from croupier.ledger.kinds import HOUSE_SHARDS
from croupier.workers.devstack import EmbeddedPostgres

PLAYERS = 1_000
PLAYER_FUNDS = 10**15
WIN_SHARE = 0.49  # a bet wins about half the time; the payout is its own posting
STAKE_RANGE = (1_000, 1_000_000)
TARGET_SINGLE_RATIO = 1.0
TARGET_BATCH_RATIO = 10.0
TPS_LINE = re.compile(r"^tps = ([0-9.]+)", re.MULTILINE)

console = Console(stderr=True)


@dataclass(frozen=True)
class Setup:
    engine: Engine
    url: str
    run: str
    players: list[int]
    house_sharded: int
    house_single_row: int


def main() -> None:
    args = parse_args()
    with scratch_database() as url:
        # Without pre-ping, like pgbench's clients and like a worker's posting engine should
        # be (postings are idempotent and retried; see make_engine).
        engine = make_engine(url, pool_size=max(args.clients, args.batch_clients), pre_ping=False)
        try:
            results = run_phases(args, prepare(engine, url))
            report = reconcile(engine)
        finally:
            engine.dispose()
    if not report.ok:
        raise SystemExit(f"the ledger does not reconcile after the run: {report.violations[:3]}")
    print_summary(args, results)
    pgbench_tps = results["pgbench"]
    summary = {
        "pgbench_tps": round(pgbench_tps, 1),
        "single_tps": round(results["single"], 1),
        "batch_tps": round(results["batch"], 1),
        "single_ratio": round(results["single"] / pgbench_tps, 3),
        "batch_ratio": round(results["batch"] / pgbench_tps, 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    print(json.dumps(summary))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8, help="pgbench clients = posting threads")
    parser.add_argument("--seconds", type=float, default=8.0, help="length of each phase")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of phases; best counts")
    parser.add_argument("--batch-size", type=int, default=1_000)
    parser.add_argument("--batch-clients", type=int, default=2, help="concurrent batch callers")
    parser.add_argument("--pgbench-scale", type=int, default=1, help="pgbench -i scale factor")
    args = parser.parse_args()
    if not (1 <= args.clients <= 64 and 1 <= args.batch_clients <= 16 and args.rounds >= 1):
        parser.error("clients must be 1-64, batch clients 1-16, rounds at least 1")
    return args


@contextmanager
def scratch_database() -> Iterator[str]:
    """A fresh, migrated database, dropped afterwards; on an embedded server if needed."""
    name = f"croupier_bench_{uuid.uuid4().hex[:10]}"
    configured = os.environ.get("CROUPIER_DATABASE_URL")
    with embedded_server_unless(configured) as server_url:
        url = ensure_database(server_url, name)
        try:
            console.print(f"scratch database {redact(url)}")
            migrate.upgrade(url)
            yield url
        finally:
            drop_database(server_url, name)


@contextmanager
def embedded_server_unless(configured: str | None) -> Iterator[str]:
    if configured:
        yield configured
        return
    scratch = Path(tempfile.mkdtemp(prefix="croupier-bench-pg-"))
    server = EmbeddedPostgres(scratch / "data", delete_on_stop=True)
    console.print("starting an embedded PostgreSQL (pgserver)")
    try:
        yield server.start()
    finally:
        server.stop()
        shutil.rmtree(scratch, ignore_errors=True)


def prepare(engine: Engine, url: str) -> Setup:
    """1,000 funded players and two houses: sharded as in production, and one row."""
    run = uuid.uuid4().hex[:8]
    sharded = open_account(engine, AccountSpec(AccountKind.HOUSE, f"bench-{run}", Currency.ETH))
    single_row = open_account(
        engine, AccountSpec(AccountKind.HOUSE, f"bench-one-row-{run}", Currency.ETH, shards=1)
    )
    bank = open_account(
        engine, AccountSpec(AccountKind.DEPOSITS_IN_FLIGHT, f"bench-{run}", Currency.ETH)
    )
    players = [
        open_account(
            engine, AccountSpec(AccountKind.PLAYER_CASH, f"player-{n}-{run}", Currency.ETH)
        ).id
        for n in range(PLAYERS)
    ]
    transfer_batch(
        engine,
        [
            TransferRequest(
                f"fund-{run}-{player}",
                bank.id,
                player,
                PLAYER_FUNDS,
                Currency.ETH,
                TransferType.DEPOSIT,
            )
            for player in players
        ],
    )
    assert sharded.shards == HOUSE_SHARDS
    return Setup(engine, url, run, players, sharded.id, single_row.id)


class Postings:
    """The bet/win stream of one worker: each call yields the next requests to post."""

    def __init__(self, setup: Setup, house: int, worker: str) -> None:
        self._setup = setup
        self._house = house
        self._worker = worker
        self._rng = random.Random(worker)
        self._bets = 0

    def next_bet(self) -> list[TransferRequest]:
        self._bets += 1
        bet_id = f"bet-{self._setup.run}-{self._worker}-{self._bets}"
        player = self._rng.choice(self._setup.players)
        stake = self._rng.randint(*STAKE_RANGE)
        requests = [
            TransferRequest(
                f"{bet_id}-stake",
                player,
                self._house,
                stake,
                Currency.ETH,
                TransferType.BET,
                reference_id=bet_id,
            )
        ]
        if self._rng.random() < WIN_SHARE:
            requests.append(
                TransferRequest(
                    f"{bet_id}-win",
                    self._house,
                    player,
                    2 * stake,
                    Currency.ETH,
                    TransferType.WIN,
                    reference_id=bet_id,
                )
            )
        return requests


def run_phases(args: argparse.Namespace, setup: Setup) -> dict[str, float]:
    phases: dict[str, Callable[[Callable[[], None]], float]] = {
        "pgbench": lambda tick: pgbench_tps(setup.url, args, tick),
        "single": lambda tick: single_tps(setup, setup.house_sharded, "s", args, tick),
        "single_one_row_house": lambda tick: single_tps(
            setup, setup.house_single_row, "o", args, tick
        ),
        "batch": lambda tick: batch_tps(setup, args, tick),
    }
    best = dict.fromkeys(phases, 0.0)
    pgbench_init(setup.url, args.pgbench_scale)
    columns = (TextColumn("{task.description:<32}"), BarColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        for round_number in range(1, args.rounds + 1):
            for name, measure in phases.items():
                task = progress.add_task(f"round {round_number}: {name}", total=args.seconds)
                started = time.monotonic()

                def tick(task: TaskID = task, started: float = started) -> None:
                    progress.update(task, completed=min(time.monotonic() - started, args.seconds))

                best[name] = max(best[name], measure(tick))
                progress.update(task, completed=args.seconds)
    return best


def pgbench_binary() -> str:
    import pgserver

    bundled = Path(pgserver.__file__).parent / "pginstall" / "bin" / "pgbench"
    if bundled.exists():
        return str(bundled)
    found = shutil.which("pgbench")
    if found is None:
        raise SystemExit("pgbench is missing: install pgserver (pip) or postgresql-client")
    return found


def libpq_url(url: str) -> str:
    scheme, rest = url.split("://", 1)
    return f"postgresql://{rest}" if scheme.startswith("postgres") else url


def pgbench_init(url: str, scale: int) -> None:
    subprocess.run(
        [pgbench_binary(), "-i", "-q", "-s", str(scale), libpq_url(url)],
        check=True,
        capture_output=True,
        text=True,
    )


def pgbench_tps(url: str, args: argparse.Namespace, tick: Callable[[], None]) -> float:
    clients = str(args.clients)
    command = [
        pgbench_binary(),
        "-n",
        "-b",
        "tpcb-like",
        "-c",
        clients,
        "-j",
        clients,
        "-T",
        str(max(1, round(args.seconds))),
        libpq_url(url),
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    while process.poll() is None:
        tick()
        time.sleep(0.2)
    out, err = process.communicate()
    match = TPS_LINE.search(out)
    if process.returncode != 0 or match is None:
        raise SystemExit(f"pgbench failed ({process.returncode}): {err.strip() or out.strip()}")
    return float(match.group(1))


def timed_workers(
    workers: int, seconds: float, tick: Callable[[], None], work: Callable[[int, float], int]
) -> float:
    """Run ``work(worker, deadline)`` on ``workers`` threads; return postings per second."""
    start = threading.Barrier(workers + 1)
    counts = [0] * workers

    def run(worker: int) -> None:
        start.wait()
        counts[worker] = work(worker, time.monotonic() + seconds)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(run, worker) for worker in range(workers)]
        start.wait()
        began = time.monotonic()
        while not all(future.done() for future in futures):
            tick()
            time.sleep(0.2)
        elapsed = time.monotonic() - began
        for future in futures:
            future.result()
    return sum(counts) / elapsed


def single_tps(
    setup: Setup, house: int, label: str, args: argparse.Namespace, tick: Callable[[], None]
) -> float:
    round_tag = uuid.uuid4().hex[:6]

    def work(worker: int, deadline: float) -> int:
        stream = Postings(setup, house, f"{label}{round_tag}-{worker}")
        posted = 0
        while time.monotonic() < deadline:
            for request in stream.next_bet():
                transfer(setup.engine, request)
                posted += 1
        return posted

    return timed_workers(args.clients, args.seconds, tick, work)


def batch_tps(setup: Setup, args: argparse.Namespace, tick: Callable[[], None]) -> float:
    round_tag = uuid.uuid4().hex[:6]

    def work(worker: int, deadline: float) -> int:
        stream = Postings(setup, setup.house_sharded, f"b{round_tag}-{worker}")
        posted = 0
        while time.monotonic() < deadline:
            batch: list[TransferRequest] = []
            while len(batch) < args.batch_size - 1:
                batch.extend(stream.next_bet())
            transfer_batch(setup.engine, batch)
            posted += len(batch)
        return posted

    return timed_workers(args.batch_clients, args.seconds, tick, work)


def print_summary(args: argparse.Namespace, results: dict[str, float]) -> None:
    table = Table(title=f"Postings per second, {args.clients} clients, best of {args.rounds}")
    for column in ("measure", "per second", "vs pgbench"):
        table.add_column(column, justify="left" if column == "measure" else "right")
    rows = [
        ("pgbench tpcb-like", "pgbench"),
        (f"single postings, house in {HOUSE_SHARDS} shards", "single"),
        ("single postings, house in one row", "single_one_row_house"),
        (f"transfer_batch of {args.batch_size}, {args.batch_clients} callers", "batch"),
    ]
    for label, key in rows:
        table.add_row(label, f"{results[key]:,.0f}", f"{results[key] / results['pgbench']:.2f}")
    console.print(table)
    single_ok = results["single"] / results["pgbench"] >= TARGET_SINGLE_RATIO
    batch_ok = results["batch"] / results["pgbench"] >= TARGET_BATCH_RATIO
    console.print(
        f"targets: single >= {TARGET_SINGLE_RATIO}x {'met' if single_ok else 'MISSED'}, "
        f"batch >= {TARGET_BATCH_RATIO}x {'met' if batch_ok else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
