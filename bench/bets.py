"""Bets per second through session workflows against no-op Updates per second, same run.

Everything is the bench's own: a scratch database (``bench.ledger.scratch_database``:
on the server of ``CROUPIER_DATABASE_URL``, or an embedded PostgreSQL), a Temporal dev
server on a free port, and ``--workers`` worker processes (``bench.bets_worker``: the
real registry and the no-op entity in each), so the bench's clients and each worker
have a GIL of their own, as in production. Both phases run on those same workers. Then:

(a) the limit: ``--players`` entity workflows (``bench.noop``), each sent no-op Updates
    one after another with update-with-start, for ``--seconds``: as many updates per
    second as the server and worker take;
(a') the floor of the design: the same, but each update runs one local activity that
    does nothing (in the worker's thread pool, as the settlement): the most bets per
    second this machine could settle if a settlement cost nothing;
(b) real dice bets, the API's path minus HTTP: ``SessionClient.place_bet``
    (update-with-start on ``PlayerSession`` workflows, one per player), each settled in
    the ledger by a local activity, ``--players`` players betting one after another;
(c) one player betting alone for a few seconds: the latency of a bet nothing queues behind;
(d) the same bets through HTTP: ``croupier api`` (uvicorn) in a child process,
    ``--http-players`` players with their own tokens and Idempotency-Keys.

(a), (a') and (b) take turns for ``--rounds`` rounds and each keeps its best round. At
the end the ledger must reconcile and every bet must have its bet row. The last line is
JSON; the target is ``ratio`` (bets/noop) >= 0.6. ``floor_ratio`` is (a')/(a): the
ratio a bet whose settlement were free would reach here, so ``ratio`` / ``floor_ratio``
is the share of that ceiling the real settlement keeps.

On a machine shared with other work the rates move with its load, so the JSON also has
the CPU each operation cost the measured system (``cpu_ms_per_noop``,
``cpu_ms_per_local_activity``, ``cpu_ms_per_bet``, from the best rounds): the bench
process, its children (Temporal server, workers) and the local PostgreSQL backends of
the scratch database, per request answered. ``cpu_ratio`` (no-op over bet) is what
``ratio`` would be if every phase were bound by CPU alone. The same, split by part
(``cpu_ms_per_noop_by_part``, ``cpu_ms_per_bet_by_part``: temporal, workers, postgres,
bench), says where a bet's extra CPU goes; ``server_cpu_ratio`` is the Temporal server's
CPU per no-op over its CPU per bet, what ``ratio`` would be where the server alone bounds
both (its own cores, workers and PostgreSQL elsewhere).

    python -m bench.bets [--players 200] [--workers 1] [--seconds 10] [--rounds 2]
                         [--http-players 50]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import Engine, make_url
from temporalio.client import Client, WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy

from bench.bets_worker import BETS_QUEUE, NOOP_QUEUE, READY_LINE
from bench.ledger import scratch_database
from bench.noop import NoopEntityWorkflow
from croupier.betting.audit import bet_ledger_mismatches
from croupier.betting.sealing import sealer_from_settings
from croupier.core.money import Currency
from croupier.core.settings import Settings
from croupier.ledger import reconcile
from croupier.ledger.db import make_engine
from croupier.workers import devstack
from croupier.workers.processes import ManagedProcess, free_port
from croupier.workflows.client import connect
from croupier.workflows.session import DevCredit, PlaceBet
from croupier.workflows.sessions import SessionClient

HOST = "127.0.0.1"
TARGET_RATIO = 0.6
FUNDS_WEI = 10**21
STAKE_WEI = "1000000000000"
DICE = {"target": "50.50", "direction": "over"}
WORKER_READY_TIMEOUT_S = 60.0
REPO_ROOT = Path(__file__).resolve().parents[1]
HTTP_PASSWORD = "bench password, not secret"
SINGLE_PLAYER_S = 3.0

console = Console(stderr=True)


def main() -> None:
    args = parse_args()
    summary = asyncio.run(run(args))
    console.print(
        f"no-op updates {summary['noop_updates_per_s']}/s, bets {summary['bets_per_s']}/s "
        f"(ratio {summary['ratio']}, target >= {TARGET_RATIO}; a free settlement would "
        f"reach {summary['floor_ratio']}), HTTP bets "
        f"{summary['http_bets_per_s']}/s; p50 {summary['p50_ms']} ms, p99 {summary['p99_ms']} ms"
    )
    print(json.dumps(summary))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--players", type=int, default=200, help="sessions (and no-op entities)")
    parser.add_argument(
        "--workers", type=int, default=1, help="worker processes, the same for both phases"
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each phase")
    parser.add_argument("--http-players", type=int, default=50, help="players of phase (d)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of (a)+(b); best counts")
    args = parser.parse_args()
    if not (1 <= args.players <= 2000 and 1 <= args.http_players <= 500 and args.seconds > 0):
        parser.error("players must be 1-2000, http players 1-500, seconds positive")
    if not 1 <= args.rounds <= 10:
        parser.error("rounds must be 1-10")
    if not 1 <= args.workers <= 8:
        parser.error("workers must be 1-8")
    return args


async def run(args: argparse.Namespace) -> dict[str, object]:
    with scratch_database() as url:
        async with _temporal_dev_server() as address:
            settings = Settings(
                database_url=url,
                temporal_address=address,
                temporal_task_queue=BETS_QUEUE,
                data_dir=Path(tempfile.mkdtemp(prefix="croupier-bench-bets-")),
                dev_faucet_enabled=True,
                max_bet={"ETH": "1000"},
            )
            # The dev key file, written once here rather than raced for by the workers.
            sealer_from_settings(settings)
            engine = make_engine(url, pool_size=2)
            client = await connect(address, "default", timeout_s=60)
            try:
                async with _workers(settings, args.workers) as workers_rss_mb:
                    phases = {
                        "noop": await _yardstick_callers(client, args, local_activity=False),
                        "local_activity": await _yardstick_callers(
                            client, args, local_activity=True
                        ),
                        "bets": await _bet_callers(client, settings, args),
                    }
                    meter = _CpuMeter(make_url(url).database or "")
                    best = await _alternate(phases, args, meter)
                    alone = await _one_player(phases["bets"][0])
                    http = await _http_phase(settings, args)
                _check_books(engine)
            finally:
                engine.dispose()
    bench_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    noop, floor, bets = best["noop"], best["local_activity"], best["bets"]
    latencies_s = bets.latencies
    return {
        "noop_updates_per_s": round(noop.rate, 1),
        "bets_per_s": round(bets.rate, 1),
        "ratio": round(bets.rate / noop.rate, 3),
        "p50_ms": round(statistics.median(latencies_s) * 1000, 1),
        "p99_ms": round(statistics.quantiles(latencies_s, n=100)[98] * 1000, 1),
        "single_player_p50_ms": round(statistics.median(alone) * 1000, 1),
        "single_player_p99_ms": round(statistics.quantiles(alone, n=100)[98] * 1000, 1),
        # The bench process plus each worker process at its peak.
        "peak_rss_mb": round(bench_rss_mb + sum(workers_rss_mb), 1),
        "http_bets_per_s": round(http, 1),
        "worker_processes": args.workers,
        "local_activity_updates_per_s": round(floor.rate, 1),
        "floor_ratio": round(floor.rate / noop.rate, 3),
        "cpu_ms_per_noop": round(noop.cpu_ms_per_request, 2),
        "cpu_ms_per_local_activity": round(floor.cpu_ms_per_request, 2),
        "cpu_ms_per_bet": round(bets.cpu_ms_per_request, 2),
        "cpu_ms_per_noop_by_part": _rounded(noop.cpu_ms_by_part),
        "cpu_ms_per_bet_by_part": _rounded(bets.cpu_ms_by_part),
        "server_cpu_ratio": round(
            noop.cpu_ms_by_part["temporal"] / bets.cpu_ms_by_part["temporal"], 3
        ),
        "cpu_ratio": round(noop.cpu_ms_per_request / bets.cpu_ms_per_request, 3),
    }


def _rounded(by_part: dict[str, float]) -> dict[str, float]:
    return {part: round(ms, 2) for part, ms in by_part.items()}


async def _yardstick_callers(
    client: Client, args: argparse.Namespace, *, local_activity: bool
) -> list[Callable[[int], Awaitable[object]]]:
    """One caller per entity, each entity started before any clock runs."""
    kind = "local-activity" if local_activity else "noop"

    async def player(index: int) -> Callable[[int], Awaitable[object]]:
        workflow_id = f"bench-{kind}-{index}"

        async def update(sequence: int) -> object:
            start = WithStartWorkflowOperation(
                NoopEntityWorkflow.run,
                local_activity,
                id=workflow_id,
                task_queue=NOOP_QUEUE,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            )
            return await client.execute_update_with_start_workflow(
                NoopEntityWorkflow.noop, sequence, start_workflow_operation=start
            )

        await update(-1)
        return update

    return list(await asyncio.gather(*(player(i) for i in range(args.players))))


async def _bet_callers(
    client: Client, settings: Settings, args: argparse.Namespace
) -> list[Callable[[int], Awaitable[object]]]:
    """One caller per player, each player funded (and its session started) beforehand."""
    sessions = SessionClient(client, BETS_QUEUE, settings)

    async def fund(user: uuid.UUID) -> Callable[[int], Awaitable[object]]:
        credit_id = str(uuid.uuid4())
        await sessions.dev_credit(user, Currency.ETH, DevCredit(credit_id, str(FUNDS_WEI)))

        async def bet(_: int) -> object:
            request = PlaceBet(str(uuid.uuid4()), "dice", STAKE_WEI, dict(DICE))
            return await sessions.place_bet(user, Currency.ETH, request)

        return bet

    return list(await asyncio.gather(*(fund(uuid.uuid4()) for _ in range(args.players))))


@dataclass(frozen=True)
class _Phase:
    """One closed-loop phase: ``rate`` counts the requests answered in time; the CPU is
    divided by all answered, the stragglers past the deadline included."""

    rate: float
    latencies: list[float]
    # Per answered request, by part of the system (``_CpuMeter.PARTS``).
    cpu_ms_by_part: dict[str, float]

    @property
    def cpu_ms_per_request(self) -> float:
        return sum(self.cpu_ms_by_part.values())


PHASE_LABELS = {
    "noop": "(a) no-op updates",
    "local_activity": "(a') no-op local activities",
    "bets": "(b) dice bets",
}


async def _alternate(
    phases: dict[str, list[Callable[[int], Awaitable[object]]]],
    args: argparse.Namespace,
    meter: _CpuMeter,
) -> dict[str, _Phase]:
    """Each phase in turn, ``--rounds`` times; each keeps its best round, so a burst of
    load from another process on the machine does not decide the ratio."""
    best: dict[str, _Phase] = {}
    for round_number in range(1, args.rounds + 1):
        for kind, calls in phases.items():
            label = PHASE_LABELS[kind]
            cpu_before = meter.seconds()
            count, latencies, answered = await _closed_loop(
                f"{label}, round {round_number}", calls, args.seconds
            )
            cpu_after = meter.seconds()
            per_request = {
                part: (cpu_after[part] - cpu_before[part]) * 1000 / max(answered, 1)
                for part in _CpuMeter.PARTS
            }
            phase = _Phase(count / args.seconds, latencies, per_request)
            if kind not in best or phase.rate > best[kind].rate:
                best[kind] = phase
    return best


async def _one_player(bet: Callable[[int], Awaitable[object]]) -> list[float]:
    """Latencies of one player betting alone: what a bet takes when nothing queues (the
    200-player percentiles are mostly waiting behind other players' bets)."""
    _, latencies, _ = await _closed_loop("(c) one player alone", [bet], SINGLE_PLAYER_S)
    return latencies


class _CpuMeter:
    """CPU seconds used so far by each part of the measured system: the Temporal dev
    server and the worker processes (descendants of the bench, told apart by their
    command lines), the PostgreSQL backends whose process title names the scratch
    database (none when the server is on another machine), and the bench itself (its
    clients, and any other descendant)."""

    PARTS = ("temporal", "workers", "postgres", "bench")

    def __init__(self, database: str) -> None:
        self._database = database.encode()
        self._tick_s = 1 / os.sysconf("SC_CLK_TCK")

    def seconds(self) -> dict[str, float]:
        parents: dict[int, int] = {}
        used: dict[int, float] = {}
        titles: dict[int, bytes] = {}
        backends: set[int] = set()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                title = (entry / "cmdline").read_bytes()
            except OSError:  # the process ended meanwhile
                continue
            pid = int(entry.name)
            parents[pid] = int(fields[1])
            used[pid] = (int(fields[11]) + int(fields[12])) * self._tick_s
            titles[pid] = title
            if self._database and self._database in title:
                backends.add(pid)
        own = os.getpid()
        totals = dict.fromkeys(self.PARTS, 0.0)
        for pid, seconds in used.items():
            if pid in backends:
                totals["postgres"] += seconds
            elif _descends(pid, own, parents):
                totals[_part_of(titles[pid])] += seconds
        return totals


def _part_of(title: bytes) -> str:
    """Which part a descendant of the bench is, by its command line."""
    if b"start-dev" in title:
        return "temporal"
    if b"bench.bets_worker" in title:
        return "workers"
    return "bench"


def _descends(pid: int, ancestor: int, parents: dict[int, int]) -> bool:
    while pid > 1:
        if pid == ancestor:
            return True
        pid = parents.get(pid, 0)
    return False


async def _http_phase(settings: Settings, args: argparse.Namespace) -> float:
    port = free_port(HOST)
    async with (
        _api_process(settings, port),
        httpx.AsyncClient(base_url=f"http://{HOST}:{port}", timeout=60) as http,
    ):
        tokens = await asyncio.gather(*(_http_player(http) for _ in range(args.http_players)))

        def better(token: str) -> Callable[[int], Awaitable[object]]:
            headers = {"Authorization": f"Bearer {token}"}

            async def bet(_: int) -> object:
                body = {"game": "dice", "currency": "ETH", "amount": STAKE_WEI, "params": DICE}
                response = await http.post(
                    "/bets", json=body, headers={**headers, "Idempotency-Key": str(uuid.uuid4())}
                )
                assert response.status_code == 201, response.text
                return response

            return bet

        count, _, _ = await _closed_loop("(d) HTTP bets", [better(t) for t in tokens], args.seconds)
    return float(count / args.seconds)


async def _http_player(http: httpx.AsyncClient) -> str:
    email = f"bench-{uuid.uuid4().hex[:12]}@example.com"
    registered = await http.post("/auth/register", json={"email": email, "password": HTTP_PASSWORD})
    assert registered.status_code == 201, registered.text
    login = await http.post("/auth/login", json={"email": email, "password": HTTP_PASSWORD})
    assert login.status_code == 200, login.text
    token = str(login.json()["access_token"])
    credit = await http.post(
        "/dev/credit",
        json={"currency": "ETH", "amount": str(FUNDS_WEI)},
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())},
    )
    assert credit.status_code == 200, credit.text
    return token


async def _closed_loop(
    label: str, calls: list[Callable[[int], Awaitable[object]]], seconds: float
) -> tuple[int, list[float], int]:
    """Each caller sends one request after another until the time is up; returns the
    requests completed in time, their latencies, and all requests answered (those in
    flight at the deadline too)."""
    latencies: list[float] = []
    answered = 0
    deadline = time.perf_counter() + seconds

    async def loop(call: Callable[[int], Awaitable[object]]) -> None:
        nonlocal answered
        sequence = 0
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            await call(sequence)
            finished = time.perf_counter()
            answered += 1
            if finished <= deadline:
                latencies.append(finished - started)
            sequence += 1

    with Progress(
        TextColumn(label),
        BarColumn(),
        TextColumn("{task.fields[done]} done"),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task(label, total=seconds, done=0)

        async def tick() -> None:
            start = time.perf_counter()
            while time.perf_counter() < deadline:
                await asyncio.sleep(0.25)
                progress.update(task, completed=time.perf_counter() - start, done=len(latencies))

        ticker = asyncio.create_task(tick())
        await asyncio.gather(*(loop(call) for call in calls))
        await ticker
    return len(latencies), latencies, answered


@asynccontextmanager
async def _workers(settings: Settings, count: int) -> AsyncIterator[list[float]]:
    """``count`` ``bench.bets_worker`` processes, polling; yields a list that holds each
    one's peak RSS (MiB) once they stop."""
    processes = [
        ManagedProcess(
            f"worker-{index}",
            [sys.executable, "-m", "bench.bets_worker"],
            env=_child_env(settings),
            cwd=REPO_ROOT,
        ).start()
        for index in range(count)
    ]
    peaks_mb: list[float] = []
    try:
        for process in processes:
            await asyncio.to_thread(_wait_for_line, process, READY_LINE)
        yield peaks_mb
        peaks_mb.extend(_peak_rss_mb(process.pid) for process in processes)
    finally:
        for process in processes:
            process.stop()


def _wait_for_line(process: ManagedProcess, line: str) -> None:
    deadline = time.monotonic() + WORKER_READY_TIMEOUT_S
    while line not in process.tail().splitlines():
        if not process.alive():
            raise SystemExit(f"{process.name} exited before polling:\n{process.tail()}")
        if time.monotonic() > deadline:
            raise SystemExit(f"{process.name} did not poll within {WORKER_READY_TIMEOUT_S:.0f}s")
        time.sleep(0.1)


def _peak_rss_mb(pid: int) -> float:
    """VmHWM of a live process (Linux), the child's counterpart of ru_maxrss."""
    for entry in Path(f"/proc/{pid}/status").read_text().splitlines():
        if entry.startswith("VmHWM:"):
            return int(entry.split()[1]) / 1024
    raise SystemExit(f"no VmHWM for process {pid}")


def _child_env(settings: Settings) -> dict[str, str]:
    """The bench's settings for its worker and API processes."""
    assert settings.database_url is not None
    return {
        **os.environ,
        "CROUPIER_DATABASE_URL": settings.database_url,
        "CROUPIER_TEMPORAL_ADDRESS": settings.temporal_address,
        "CROUPIER_TEMPORAL_TASK_QUEUE": BETS_QUEUE,
        "CROUPIER_DATA_DIR": str(settings.data_dir),
        "CROUPIER_DEV_FAUCET_ENABLED": "true",
        "CROUPIER_MAX_BET": json.dumps(settings.max_bet),
        "CROUPIER_PASSWORD_HASH_TIME_COST": "1",
        "CROUPIER_PASSWORD_HASH_MEMORY_KIB": "8192",
        "CROUPIER_BET_REQUESTS_PER_USER": "1000000",
        "CROUPIER_BET_REQUESTS_PER_IP": "1000000",
        "CROUPIER_REGISTRATIONS_PER_IP": "100000",
        "CROUPIER_LOGIN_ATTEMPTS_PER_IP": "100000",
        "CROUPIER_LOG_LEVEL": "WARNING",
    }


@asynccontextmanager
async def _api_process(settings: Settings, port: int) -> AsyncIterator[None]:
    env = {
        **_child_env(settings),
        "CROUPIER_API_PORT": str(port),
        "CROUPIER_JWT_SECRET": secrets.token_urlsafe(48),
    }
    croupier = Path(sys.executable).parent / "croupier"
    api = ManagedProcess("api", [str(croupier), "api"], env=env).start()
    try:
        await asyncio.to_thread(api.wait_for_http, f"http://{HOST}:{port}/healthz")
        yield
    finally:
        api.stop()


@asynccontextmanager
async def _temporal_dev_server() -> AsyncIterator[str]:
    port = free_port(HOST)
    argv = devstack.temporal_dev_server_argv(ip=HOST, port=port, ui_port=None, db_file=None)
    server = ManagedProcess("temporal", argv).start()
    try:
        await asyncio.to_thread(server.wait_for_port, HOST, port)
        yield f"{HOST}:{port}"
    finally:
        server.stop()


def _check_books(engine: Engine) -> None:
    report = reconcile(engine)
    if not report.ok:
        raise SystemExit(f"the ledger does not reconcile after the run: {report.violations[:3]}")
    mismatches = bet_ledger_mismatches(engine)
    if mismatches:
        raise SystemExit(f"bets and their transfers disagree: {mismatches[:3]}")


if __name__ == "__main__":
    main()
