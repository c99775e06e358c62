"""A JSON-RPC HTTP server speaking bitcoind's wire format, backed by ``RegtestSimulator``.

It exists so ``croupier.chains.bitcoin.rpc.BitcoindRpc`` runs its real HTTP code in the
tests: basic auth (401 with an empty body on bad credentials, as bitcoind), JSON-RPC 1.0
replies ``{"result", "error", "id"}`` with HTTP 500 on errors and 404 for an unknown
method, amounts as JSON numbers with exactly 8 decimals, bitcoind's error codes and
reject reasons, and the wallet endpoint ``/wallet/<name>`` which answers -18 until the
wallet is created or loaded.

Only the methods and verbosities croupier calls are served. Answers carry the fields
croupier reads and the common ones around them; fields no code here reads (``asm``,
``desc``, ``safe``, ``chainwork``...) are left out. This is a
stand-in for bitcoind in tests, and no real bitcoind is exercised anywhere in them.
"""

from __future__ import annotations

import base64
import hmac
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from bitcoinlib.transactions import Transaction

from croupier.chains.bitcoin.addresses import descriptor_checksum
from croupier.chains.bitcoin.backend import GENESIS_PARENT_HASH
from croupier.chains.bitcoin.errors import (
    RPC_DESERIALIZATION_ERROR,
    RPC_INVALID_ADDRESS_OR_KEY,
    RPC_INVALID_PARAMETER,
    RPC_METHOD_NOT_FOUND,
    RPC_WALLET_ALREADY_LOADED,
    RPC_WALLET_NOT_FOUND,
)
from croupier.chains.errors import BroadcastRejected
from tests.btc_simulator.chain import RegtestSimulator, SimBlock, SimTx
from tests.btc_simulator.encoding import (
    address_to_script,
    coinbase_script_sig,
    dsha256,
    sat_to_btc,
    script_to_address,
    script_type,
)

RPC_WALLET_ERROR = -4
RPC_INVALID_REQUEST = -32600
_MAX_BODY_BYTES = 4_000_000
HEADER_BYTES = 80


class RpcFailure(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class _Wallets:
    existing: set[str] = field(default_factory=set)
    loaded: set[str] = field(default_factory=set)


class SimulatorRpc:
    """bitcoind's RPC methods over a simulator: params in, JSON-ready result out."""

    def __init__(self, chain: RegtestSimulator) -> None:
        self.chain = chain
        self.wallets = _Wallets()
        self._methods: dict[str, Callable[..., Any]] = {
            "getblockcount": self.getblockcount,
            "getblockhash": self.getblockhash,
            "getblockheader": self.getblockheader,
            "getblock": self.getblock,
            "getrawtransaction": self.getrawtransaction,
            "sendrawtransaction": self.sendrawtransaction,
            "estimatesmartfee": self.estimatesmartfee,
            "getmempoolinfo": self.getmempoolinfo,
            "createwallet": self.createwallet,
            "loadwallet": self.loadwallet,
        }
        self._wallet_methods: dict[str, Callable[..., Any]] = {
            "importdescriptors": self.importdescriptors,
            "listunspent": self.listunspent,
        }

    def call(self, method: str, params: list[Any], wallet: str | None) -> Any:
        if method in self._wallet_methods:
            if wallet is None or wallet not in self.wallets.loaded:
                raise RpcFailure(
                    RPC_WALLET_NOT_FOUND, "Requested wallet does not exist or is not loaded"
                )
            return self._wallet_methods[method](*params)
        handler = self._methods.get(method)
        if handler is None:
            raise RpcFailure(RPC_METHOD_NOT_FOUND, "Method not found")
        return handler(*params)

    # -- blockchain ------------------------------------------------------------------

    def getblockcount(self) -> int:
        return self.chain.block_count()

    def getblockhash(self, height: int) -> str:
        block_hash = self.chain.block_hash(height)
        if block_hash is None:
            raise RpcFailure(RPC_INVALID_PARAMETER, "Block height out of range")
        return block_hash

    def getblockheader(self, block_hash: str, verbose: bool = True) -> Any:
        assert verbose, "croupier reads headers as JSON"
        return self._header_fields(self._block(block_hash))

    def getblock(self, block_hash: str, verbosity: int = 1) -> Any:
        assert verbosity == 2, "croupier reads blocks with decoded transactions"
        block = self._block(block_hash)
        fields = self._header_fields(block)
        fields["size"] = sum(len(tx.raw) for tx in block.txs) + HEADER_BYTES
        fields["weight"] = sum(tx.weight for tx in block.txs) + 4 * HEADER_BYTES
        fields["tx"] = [_tx_fields(tx) for tx in block.txs]
        return fields

    def getrawtransaction(self, txid: str, verbose: Any = False) -> Any:
        assert verbose, "croupier reads transactions as JSON"
        found = self.chain.raw_transaction(txid)
        tx = self.chain.stored_tx(txid)
        if found is None or tx is None:
            raise RpcFailure(
                RPC_INVALID_ADDRESS_OR_KEY,
                "No such mempool or blockchain transaction. Use gettransaction for wallet "
                "transactions.",
            )
        fields = _tx_fields(tx)
        if found.block_hash is not None:
            fields["blockhash"] = found.block_hash
            fields["confirmations"] = found.confirmations
        return fields

    def sendrawtransaction(self, hex_tx: str, maxfeerate: Any = "0.10") -> str:
        try:
            raw = bytes.fromhex(hex_tx)
        except ValueError:
            raise RpcFailure(RPC_DESERIALIZATION_ERROR, "TX decode failed") from None
        rate_sat_kvb = int(Decimal(str(maxfeerate)) * 100_000_000)
        try:
            return self.chain.send_raw_transaction(raw, max_fee_rate_sat_kvb=rate_sat_kvb)
        except BroadcastRejected as rejection:
            code = getattr(rejection, "rpc_code", None)
            assert code is not None, f"the simulator raised an unmapped {rejection!r}"
            raise RpcFailure(code, rejection.reason) from None

    def estimatesmartfee(self, conf_target: int, estimate_mode: str = "conservative") -> Any:
        if not 1 <= conf_target <= 1008:
            raise RpcFailure(
                RPC_INVALID_PARAMETER, "Invalid conf_target, must be between 1 and 1008"
            )
        rate = self.chain.estimate_smart_fee(conf_target)
        if rate is None:
            return {"errors": ["Insufficient data or no feerate found"], "blocks": 0}
        return {"feerate": sat_to_btc(rate), "blocks": conf_target}

    def getmempoolinfo(self) -> Any:
        entries = self.chain.mempool_entries()
        minimum = sat_to_btc(self.chain.mempool_min_fee())
        return {
            "loaded": True,
            "size": len(entries),
            "bytes": sum(entry.tx.vsize for entry in entries),
            "total_fee": sat_to_btc(sum(entry.fee_sat for entry in entries)),
            "mempoolminfee": minimum,
            "minrelaytxfee": minimum,
            "incrementalrelayfee": sat_to_btc(self.chain.incremental_relay_fee_sat_kvb),
            "fullrbf": False,
        }

    # -- wallets ---------------------------------------------------------------------

    def createwallet(self, name: str, disable_private_keys: bool = False, *_: Any) -> Any:
        assert disable_private_keys, "croupier's node wallet never holds keys"
        if name in self.wallets.existing:
            raise RpcFailure(
                RPC_WALLET_ERROR,
                f"Wallet file verification failed. Failed to create database path '{name}'. "
                "Database already exists.",
            )
        self.wallets.existing.add(name)
        self.wallets.loaded.add(name)
        return {"name": name}

    def loadwallet(self, name: str, *_: Any) -> Any:
        if name not in self.wallets.existing:
            raise RpcFailure(
                RPC_WALLET_NOT_FOUND,
                f"Wallet file verification failed. Failed to load database path '{name}'. "
                "Path does not exist.",
            )
        if name in self.wallets.loaded:
            raise RpcFailure(RPC_WALLET_ALREADY_LOADED, f'Wallet "{name}" is already loaded.')
        self.wallets.loaded.add(name)
        return {"name": name}

    def importdescriptors(self, requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [self._import_one(request) for request in requests]

    def _import_one(self, request: dict[str, Any]) -> dict[str, Any]:
        descriptor = str(request.get("desc", ""))
        body, _, checksum = descriptor.partition("#")
        if not checksum:
            return _import_error(RPC_INVALID_PARAMETER, "Missing checksum")
        # Reuses croupier's BIP-380 code; that code is pinned by the BIP's own vector.
        if descriptor_checksum(body) != descriptor:
            return _import_error(
                RPC_INVALID_ADDRESS_OR_KEY,
                f"Provided checksum '{checksum}' does not match computed checksum",
            )
        if not (body.startswith("addr(") and body.endswith(")")):
            return _import_error(RPC_INVALID_PARAMETER, "only addr() descriptors are simulated")
        address = body[5:-1]
        try:
            address_to_script(address)
        except Exception:
            return _import_error(
                RPC_INVALID_ADDRESS_OR_KEY, f"addr(): Address {address} is not valid"
            )
        timestamp = request.get("timestamp")
        if timestamp != "now" and not (isinstance(timestamp, int) and timestamp >= 0):
            return _import_error(RPC_INVALID_PARAMETER, "Missing required timestamp field for key")
        rescan_from = None if timestamp == "now" else timestamp
        self.chain.watch_addresses([address], rescan_from=rescan_from)
        return {"success": True}

    def listunspent(
        self,
        minconf: int = 1,
        maxconf: int = 9_999_999,
        addresses: list[str] | None = None,
        include_unsafe: bool = True,
        query_options: dict[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        assert include_unsafe, "croupier judges safety itself"
        limit = int((query_options or {}).get("maximumCount", 10**9))
        unspent = self.chain.list_unspent(addresses or [], min_confirmations=minconf, limit=limit)
        return [
            {
                "txid": entry.txid,
                "vout": entry.vout,
                "address": entry.address,
                "label": "",
                "scriptPubKey": address_to_script(entry.address).hex(),
                "amount": sat_to_btc(entry.value_sat),
                "confirmations": entry.confirmations,
                "spendable": False,
                "solvable": False,
            }
            for entry in unspent
            if entry.confirmations <= maxconf
        ]

    # -- helpers ---------------------------------------------------------------------

    def _block(self, block_hash: str) -> SimBlock:
        block = self.chain.stored_block(block_hash)
        if block is None:
            raise RpcFailure(RPC_INVALID_ADDRESS_OR_KEY, "Block not found")
        return block

    def _header_fields(self, block: SimBlock) -> dict[str, Any]:
        confirmations = self.chain.confirmations_of(block.hash)
        fields: dict[str, Any] = {
            "hash": block.hash,
            "confirmations": confirmations,
            "height": block.height,
            "version": int.from_bytes(block.header[:4], "little"),
            "merkleroot": block.header[36:68][::-1].hex(),
            "time": block.time,
            "nonce": int.from_bytes(block.header[76:80], "little"),
            "bits": block.header[72:76][::-1].hex(),
            "nTx": len(block.txs),
        }
        if block.previous_hash != GENESIS_PARENT_HASH:
            fields["previousblockhash"] = block.previous_hash
        next_hash = self.chain.block_hash(block.height + 1) if confirmations > 0 else None
        if next_hash is not None:
            fields["nextblockhash"] = next_hash
        return fields


def _import_error(code: int, message: str) -> dict[str, Any]:
    return {"success": False, "error": {"code": code, "message": message}}


def _tx_fields(tx: SimTx) -> dict[str, Any]:
    """``decoderawtransaction``-style fields of one transaction."""
    if tx.is_coinbase:
        vin: list[dict[str, Any]] = [
            {"coinbase": coinbase_script_sig(tx.raw).hex(), "sequence": 0xFFFF_FFFF}
        ]
        wtxid = tx.txid
    else:
        parsed = Transaction.parse_bytes(tx.raw, network="testnet")
        vin = [
            {
                "txid": outpoint.txid,
                "vout": outpoint.vout,
                "scriptSig": {"hex": bytes(tx_input.unlocking_script).hex()},
                "txinwitness": [bytes(item).hex() for item in tx_input.witnesses],
                "sequence": tx_input.sequence,
            }
            for outpoint, tx_input in zip(tx.inputs, parsed.inputs, strict=True)
        ]
        wtxid = dsha256(tx.raw)[::-1].hex()
    vout = []
    for n, (value, script) in enumerate(tx.outputs):
        script_fields: dict[str, Any] = {"hex": script.hex(), "type": script_type(script)}
        address = script_to_address(script)
        if address is not None:
            script_fields["address"] = address
        vout.append({"value": sat_to_btc(value), "n": n, "scriptPubKey": script_fields})
    return {
        "txid": tx.txid,
        "hash": wtxid,
        "version": int.from_bytes(tx.raw[:4], "little", signed=True),
        "size": len(tx.raw),
        "vsize": tx.vsize,
        "weight": tx.weight,
        "locktime": int.from_bytes(tx.raw[-4:], "little"),
        "vin": vin,
        "vout": vout,
        "hex": tx.raw.hex(),
    }


def encode_json(value: Any) -> str:
    """JSON with ``Decimal`` written as a plain number, as bitcoind writes amounts."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dict):
        return (
            "{" + ",".join(f"{json.dumps(str(k))}:{encode_json(v)}" for k, v in value.items()) + "}"
        )
    if isinstance(value, list | tuple):
        return "[" + ",".join(encode_json(item) for item in value) + "]"
    return json.dumps(value)


class _Handler(BaseHTTPRequestHandler):
    server: _RpcHttpServer

    def log_message(self, format: str, *args: Any) -> None:
        return  # keep test output quiet

    def do_POST(self) -> None:
        if not self.server.authorised(self.headers.get("Authorization")):
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="jsonrpc"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        length = int(self.headers.get("Content-Length", "0"))
        if not 0 < length <= _MAX_BODY_BYTES:
            self._reply(
                400,
                {
                    "result": None,
                    "error": {"code": RPC_INVALID_REQUEST, "message": "bad size"},
                    "id": None,
                },
            )
            return
        try:
            request = json.loads(self.rfile.read(length), parse_float=Decimal)
        except ValueError:
            self._reply(
                500,
                {"result": None, "error": {"code": -32700, "message": "Parse error"}, "id": None},
            )
            return
        wallet = self.path.removeprefix("/wallet/") if self.path.startswith("/wallet/") else None
        status, reply = self.server.dispatch(request, wallet)
        self._reply(status, reply)

    def _reply(self, status: int, body: Any) -> None:
        payload = encode_json(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


class _RpcHttpServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, rpc: SimulatorRpc, user: str, password: str) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.rpc = rpc
        self._expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        self._lock = threading.Lock()

    def authorised(self, header: str | None) -> bool:
        return header is not None and hmac.compare_digest(header, self._expected)

    def dispatch(self, request: Any, wallet: str | None) -> tuple[int, dict[str, Any]]:
        """(HTTP status, reply) for one request, with bitcoind's legacy status codes."""
        request_id = request.get("id") if isinstance(request, dict) else None
        try:
            if not isinstance(request, dict) or not isinstance(request.get("method"), str):
                raise RpcFailure(RPC_INVALID_REQUEST, "Invalid Request object")
            with self._lock:
                result = self.rpc.call(request["method"], list(request.get("params") or []), wallet)
        except RpcFailure as failure:
            error = {"code": failure.code, "message": failure.message}
            status = {RPC_METHOD_NOT_FOUND: 404, RPC_INVALID_REQUEST: 400}.get(failure.code, 500)
            return status, {"result": None, "error": error, "id": request_id}
        return 200, {"result": result, "error": None, "id": request_id}


@dataclass(frozen=True)
class RunningRpcServer:
    url: str
    user: str
    password: str
    rpc: SimulatorRpc


@contextmanager
def serve(chain: RegtestSimulator, *, user: str, password: str) -> Iterator[RunningRpcServer]:
    """Serve ``chain`` on a free localhost port for the duration of the block."""
    rpc = SimulatorRpc(chain)
    server = _RpcHttpServer(rpc, user, password)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, name="btc-sim-rpc", daemon=True
    )
    thread.start()
    try:
        port = server.server_address[1]
        yield RunningRpcServer(f"http://127.0.0.1:{port}", user, password, rpc)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
