"""The Vault stand-in: state, HTTP handler and a threaded server on a free local port."""

from __future__ import annotations

import json
import secrets
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

LOCAL_HOST = "127.0.0.1"
VERSION = "1.17.0+standin"
MAX_BODY_BYTES = 1024 * 1024
ALL_CAPABILITIES = frozenset({"read", "create", "update"})
TOKEN_TTL_S = 3600  # reported in login responses; the stand-in does not expire tokens


@dataclass
class _SecretVersion:
    data: dict[str, Any]
    created_time: str
    version: int

    def metadata(self) -> dict[str, Any]:
        return {
            "created_time": self.created_time,
            "custom_metadata": None,
            "deletion_time": "",
            "destroyed": False,
            "version": self.version,
        }


@dataclass
class _State:
    kv_mounts: dict[str, dict[str, list[_SecretVersion]]]
    tokens: dict[str, frozenset[str]] = field(default_factory=dict)
    approles: dict[str, tuple[str, frozenset[str]]] = field(default_factory=dict)
    sealed: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Reply(Exception):
    """Raised by a handler step to answer at once with a status and a JSON body."""

    def __init__(self, status: HTTPStatus, body: dict[str, Any]) -> None:
        super().__init__(status)
        self.status = status
        self.body = body


def _errors(status: HTTPStatus, *messages: str) -> _Reply:
    return _Reply(status, {"errors": list(messages)})


def _envelope(*, data: Any = None, auth: Any = None) -> dict[str, Any]:
    """Vault's common response envelope."""
    return {
        "request_id": str(uuid.uuid4()),
        "lease_id": "",
        "renewable": False,
        "lease_duration": 0,
        "data": data,
        "wrap_info": None,
        "warnings": None,
        "auth": auth,
    }


def _now_rfc3339() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class VaultStandIn:
    """A Vault-API-compatible server for tests; see the package docstring for its scope."""

    def __init__(self, kv_mounts: tuple[str, ...] = ("secret",)) -> None:
        self._state = _State(kv_mounts={mount: {} for mount in kv_mounts})
        self.root_token = self.create_token()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "the stand-in is not running"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @contextmanager
    def running(self) -> Iterator[VaultStandIn]:
        """Serve on a free port in a daemon thread until the block ends."""
        server = ThreadingHTTPServer((LOCAL_HOST, 0), _Handler)
        server.daemon_threads = True
        server.state = self._state  # type: ignore[attr-defined]
        thread = threading.Thread(target=server.serve_forever, name="vault-standin", daemon=True)
        thread.start()
        self._server, self._thread = server, thread
        try:
            yield self
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)
            self._server = self._thread = None

    def create_token(self, capabilities: frozenset[str] = ALL_CAPABILITIES) -> str:
        token = f"hvs.{secrets.token_urlsafe(24)}"
        with self._state.lock:
            self._state.tokens[token] = frozenset(capabilities)
        return token

    def revoke_token(self, token: str) -> None:
        with self._state.lock:
            self._state.tokens.pop(token, None)

    def revoke_tokens_of(self, role_id: str) -> None:
        """Revoke every token AppRole logins gave ``role_id``, as if they had expired."""
        with self._state.lock:
            for token in [t for t in self._state.tokens if t.startswith(f"hvs.{role_id}.")]:
                del self._state.tokens[token]

    def tokens_issued_to(self, role_id: str) -> int:
        """How many live tokens AppRole logins created for ``role_id`` (for assertions)."""
        with self._state.lock:
            return sum(1 for token in self._state.tokens if token.startswith(f"hvs.{role_id}."))

    def create_approle(self, capabilities: frozenset[str] = ALL_CAPABILITIES) -> tuple[str, str]:
        """A new AppRole; returns its (role_id, secret_id)."""
        role_id, secret_id = str(uuid.uuid4()), str(uuid.uuid4())
        with self._state.lock:
            self._state.approles[role_id] = (secret_id, frozenset(capabilities))
        return role_id, secret_id

    def seal(self) -> None:
        with self._state.lock:
            self._state.sealed = True

    def unseal(self) -> None:
        with self._state.lock:
            self._state.sealed = False

    @contextmanager
    def sealed(self) -> Iterator[None]:
        self.seal()
        try:
            yield
        finally:
            self.unseal()


class _Handler(BaseHTTPRequestHandler):
    server_version = "VaultStandIn"

    @property
    def state(self) -> _State:
        state: _State = self.server.state  # type: ignore[attr-defined]
        return state

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests assert on responses, not on an access log."""

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_HEAD(self) -> None:
        self._dispatch("HEAD")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        try:
            status, body = self._route(method)
        except _Reply as reply:
            status, body = reply.status, reply.body
        self._send(status, body, include_body=method != "HEAD")

    def _route(self, method: str) -> tuple[HTTPStatus, dict[str, Any]]:
        url = urlsplit(self.path)
        if not url.path.startswith("/v1/"):
            raise _errors(HTTPStatus.NOT_FOUND)
        route = url.path.removeprefix("/v1/").strip("/")
        if route == "sys/health" and method in {"GET", "HEAD"}:
            return self._health()
        if route == "sys/seal-status" and method == "GET":
            return HTTPStatus.OK, self._seal_status()
        with self.state.lock:
            sealed = self.state.sealed
        if sealed:
            raise _errors(HTTPStatus.SERVICE_UNAVAILABLE, "Vault is sealed")
        if route == "auth/approle/login":
            self._require_method(method, {"POST", "PUT"})
            return HTTPStatus.OK, self._approle_login()
        capabilities = self._authenticate()
        mount, _, rest = route.partition("/")
        kind, _, secret_path = rest.partition("/")
        if mount in self.state.kv_mounts and kind == "data" and secret_path:
            self._require_method(method, {"GET", "POST", "PUT"})
            if method == "GET":
                return HTTPStatus.OK, self._kv_read(mount, secret_path, url.query, capabilities)
            return HTTPStatus.OK, self._kv_write(mount, secret_path, capabilities)
        raise _errors(
            HTTPStatus.NOT_FOUND, f'no handler for route "{route}". route entry not found.'
        )

    def _health(self) -> tuple[HTTPStatus, dict[str, Any]]:
        with self.state.lock:
            sealed = self.state.sealed
        body = {
            "initialized": True,
            "sealed": sealed,
            "standby": sealed,
            "performance_standby": False,
            "replication_performance_mode": "disabled",
            "replication_dr_mode": "disabled",
            "server_time_utc": int(datetime.now(UTC).timestamp()),
            "version": VERSION,
            "cluster_name": "vault-standin",
            "cluster_id": "00000000-0000-0000-0000-000000000000",
        }
        return (HTTPStatus.SERVICE_UNAVAILABLE if sealed else HTTPStatus.OK), body

    def _seal_status(self) -> dict[str, Any]:
        with self.state.lock:
            sealed = self.state.sealed
        return {
            "type": "shamir",
            "initialized": True,
            "sealed": sealed,
            "t": 1,
            "n": 1,
            "progress": 0,
            "nonce": "",
            "version": VERSION,
            "migration": False,
            "recovery_seal": False,
            "storage_type": "inmem",
        }

    def _approle_login(self) -> dict[str, Any]:
        body = self._json_body()
        role_id, secret_id = body.get("role_id"), body.get("secret_id")
        if not isinstance(role_id, str) or not role_id:
            raise _errors(HTTPStatus.BAD_REQUEST, "missing role_id")
        with self.state.lock:
            role = self.state.approles.get(role_id)
            if role is None or not isinstance(secret_id, str) or secret_id != role[0]:
                raise _errors(HTTPStatus.BAD_REQUEST, "invalid role or secret ID")
            token = f"hvs.{role_id}.{secrets.token_urlsafe(16)}"
            self.state.tokens[token] = role[1]
        auth = {
            "client_token": token,
            "accessor": secrets.token_urlsafe(18),
            "policies": ["default"],
            "token_policies": ["default"],
            "metadata": {"role_name": "croupier"},
            "lease_duration": TOKEN_TTL_S,
            "renewable": True,
            "entity_id": str(uuid.uuid4()),
            "token_type": "service",
            "orphan": True,
            "mfa_requirement": None,
            "num_uses": 0,
        }
        return _envelope(auth=auth)

    def _authenticate(self) -> frozenset[str]:
        token = self.headers.get("X-Vault-Token") or ""
        bearer = self.headers.get("Authorization") or ""
        if not token and bearer.startswith("Bearer "):
            token = bearer.removeprefix("Bearer ")
        with self.state.lock:
            capabilities = self.state.tokens.get(token)
        if capabilities is None:
            raise _errors(HTTPStatus.FORBIDDEN, "permission denied")
        return capabilities

    def _kv_read(
        self, mount: str, secret_path: str, query: str, capabilities: frozenset[str]
    ) -> dict[str, Any]:
        _require_capability(capabilities, "read")
        version_param = parse_qs(query).get("version", ["0"])[-1]
        if not version_param.isdigit():
            raise _errors(HTTPStatus.BAD_REQUEST, "invalid version parameter")
        wanted = int(version_param)
        with self.state.lock:
            versions = self.state.kv_mounts[mount].get(secret_path, [])
            found = versions[-1] if versions and wanted == 0 else None
            if wanted:
                found = next((v for v in versions if v.version == wanted), None)
        if found is None:
            raise _errors(HTTPStatus.NOT_FOUND)
        return _envelope(data={"data": dict(found.data), "metadata": found.metadata()})

    def _kv_write(
        self, mount: str, secret_path: str, capabilities: frozenset[str]
    ) -> dict[str, Any]:
        body = self._json_body()
        data = body.get("data")
        if not isinstance(data, dict):
            raise _errors(HTTPStatus.BAD_REQUEST, "no data provided")
        options = body.get("options") or {}
        if not isinstance(options, dict):
            raise _errors(HTTPStatus.BAD_REQUEST, "invalid options: expected a JSON object")
        cas = options.get("cas")
        if cas is not None and (isinstance(cas, bool) or not isinstance(cas, int) or cas < 0):
            raise _errors(HTTPStatus.BAD_REQUEST, "invalid cas parameter")
        with self.state.lock:
            versions = self.state.kv_mounts[mount].setdefault(secret_path, [])
            current = versions[-1].version if versions else 0
            _require_capability(capabilities, "update" if versions else "create")
            if cas is not None and cas != current:
                raise _errors(
                    HTTPStatus.BAD_REQUEST,
                    "check-and-set parameter did not match the current version",
                )
            written = _SecretVersion(data=data, created_time=_now_rfc3339(), version=current + 1)
            versions.append(written)
        return _envelope(data=written.metadata())

    def _json_body(self) -> dict[str, Any]:
        length_header = self.headers.get("Content-Length") or "0"
        if not length_header.isdigit():
            raise _errors(HTTPStatus.BAD_REQUEST, "invalid Content-Length")
        length = int(length_header)
        if length > MAX_BODY_BYTES:
            raise _errors(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "http: request body too large")
        raw = self.rfile.read(length) if length else b"{}"
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as error:
            raise _errors(HTTPStatus.BAD_REQUEST, f"failed to parse JSON input: {error}") from None
        if not isinstance(body, dict):
            raise _errors(HTTPStatus.BAD_REQUEST, "failed to parse JSON input: expected an object")
        return body

    def _require_method(self, method: str, allowed: set[str]) -> None:
        if method not in allowed:
            raise _errors(
                HTTPStatus.METHOD_NOT_ALLOWED, "1 error occurred:\n\t* unsupported operation\n\n"
            )

    def _send(self, status: HTTPStatus, body: dict[str, Any], *, include_body: bool) -> None:
        encoded = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Length", str(len(encoded)))
        self.end_headers()
        if include_body:
            self.wfile.write(encoded)


def _require_capability(capabilities: frozenset[str], needed: str) -> None:
    if needed not in capabilities:
        raise _errors(HTTPStatus.FORBIDDEN, "1 error occurred:\n\t* permission denied\n\n")
