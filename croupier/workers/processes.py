"""Child-process supervision for the dev stack: start, stream output, wait ready, stop.

Each child runs in its own session (process group) so that stopping it also stops
anything it spawned, and so that a Ctrl-C in the terminal reaches only ``croupier up``,
which then stops the children in order.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from croupier.core.errors import ConfigurationError, ServiceUnavailable

LineSink = Callable[[str, str], None]
TAIL_LINES = 40


class PortInUse(ConfigurationError):
    code = "port_in_use"


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def ensure_port_free(host: str, port: int, *, what: str, variable: str) -> None:
    """Refuse to start when a port is taken, naming the setting that moves it."""
    if not port_is_free(host, port):
        raise PortInUse(
            f"port {port} on {host} ({what}) is already in use; stop whatever holds it "
            f"or set {variable} to a free port"
        )


def free_port(host: str = "127.0.0.1") -> int:
    """A port the kernel considers free right now (for tests and ephemeral servers)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


class ManagedProcess:
    """One supervised child process with its output forwarded line by line."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        sink: LineSink | None = None,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.env = dict(env) if env is not None else None
        self.cwd = cwd
        self._sink = sink
        self._tail: deque[str] = deque(maxlen=TAIL_LINES)
        self._popen: subprocess.Popen[str] | None = None
        self._reader: threading.Thread | None = None

    @property
    def pid(self) -> int:
        assert self._popen is not None, f"{self.name} was never started"
        return self._popen.pid

    def start(self) -> ManagedProcess:
        self._popen = subprocess.Popen(
            self.argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            env=self.env,
            cwd=self.cwd,
            start_new_session=True,
        )
        self._reader = threading.Thread(target=self._forward, name=f"{self.name}-out", daemon=True)
        self._reader.start()
        return self

    def _forward(self) -> None:
        assert self._popen is not None and self._popen.stdout is not None
        for raw in self._popen.stdout:
            line = raw.rstrip("\n")
            self._tail.append(line)
            if self._sink is not None:
                self._sink(self.name, line)

    def alive(self) -> bool:
        return self._popen is not None and self._popen.poll() is None

    def returncode(self) -> int | None:
        return None if self._popen is None else self._popen.poll()

    def tail(self) -> str:
        return "\n".join(self._tail)

    def stop(self, timeout_s: float = 10.0) -> None:
        """SIGTERM the whole process group, then SIGKILL what is left after ``timeout_s``."""
        if self._popen is None:
            return
        if self._popen.poll() is None:
            self._signal_group(signal.SIGTERM)
            try:
                self._popen.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
                self._popen.wait(timeout=timeout_s)
        # A child may have left grandchildren in its group; they go too.
        self._signal_group(signal.SIGKILL)
        if self._reader is not None:
            self._reader.join(timeout=2)

    def _signal_group(self, signum: int) -> None:
        assert self._popen is not None
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._popen.pid, signum)

    def _died(self, waiting_for: str) -> ServiceUnavailable:
        return ServiceUnavailable(
            f"{self.name} exited with status {self.returncode()} while waiting for "
            f"{waiting_for}; its last output:\n{self.tail()}"
        )

    def wait_for_port(self, host: str, port: int, *, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not self.alive():
                raise self._died(f"{host}:{port}")
            with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=1):
                return
            time.sleep(0.1)
        raise ServiceUnavailable(f"{self.name} did not open {host}:{port} within {timeout_s:.0f}s")

    def wait_for_http(self, url: str, *, timeout_s: float = 60.0) -> None:
        """Wait until ``url`` answers 2xx; any other answer or none means not yet."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not self.alive():
                raise self._died(url)
            with (
                contextlib.suppress(OSError, urllib.error.URLError),
                urllib.request.urlopen(url, timeout=2) as response,  # noqa: S310
            ):
                if 200 <= response.status < 300:
                    return
            time.sleep(0.2)
        raise ServiceUnavailable(f"{self.name} did not answer {url} within {timeout_s:.0f}s")
