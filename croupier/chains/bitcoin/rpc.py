"""``BitcoinBackend`` over bitcoind's JSON-RPC (HTTP, basic auth), synchronous.

Requests are JSON-RPC 1.0 as bitcoind has always accepted them; errors come back as
``{"error": {"code": ..., "message": ...}}`` with HTTP 500 (404 for an unknown method),
and the codes Croupier acts on map to typed errors (``errors.py``). Amounts are parsed
from the JSON text as ``Decimal`` and converted to satoshis exactly; no float ever holds
an amount or a feerate.

Wallet calls (``importdescriptors``, ``listunspent``) go to ``/wallet/<name>``, a
watch-only descriptor wallet without private keys; if bitcoind has not loaded it, it is
loaded, or created, once, and the call is retried.

The test suite runs this class against a JSON-RPC server that serves a regtest chain
simulator in bitcoind's wire format; no real bitcoind is exercised by the tests.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import httpx

from croupier.chains.bitcoin.addresses import descriptor_checksum
from croupier.chains.bitcoin.backend import (
    GENESIS_PARENT_HASH,
    NodeBlock,
    NodeBlockHeader,
    NodeTransaction,
    NodeTxOutput,
    OutPoint,
    TxLookup,
    Unspent,
)
from croupier.chains.bitcoin.errors import (
    RPC_DESERIALIZATION_ERROR,
    RPC_IN_WARMUP,
    RPC_INVALID_ADDRESS_OR_KEY,
    RPC_INVALID_PARAMETER,
    RPC_VERIFY_ALREADY_IN_CHAIN,
    RPC_VERIFY_ERROR,
    RPC_VERIFY_REJECTED,
    RPC_WALLET_ALREADY_LOADED,
    RPC_WALLET_NOT_FOUND,
    AlreadyInChain,
    BtcFeeTooLow,
    InputsMissingOrSpent,
    MalformedTransaction,
    MaxFeeExceeded,
    MempoolConflict,
    RpcCredentialsRejected,
    TransactionRejected,
)
from croupier.chains.bitcoin.fees import SAT_PER_BTC, btc_to_sat
from croupier.chains.errors import BroadcastRejected, NodeUnavailable
from croupier.core.errors import ConfigurationError, CroupierError
from croupier.core.settings import Settings

MAX_IMPORT_BATCH = 500  # descriptors per importdescriptors call
MAX_CONFIRMATIONS = 9_999_999  # listunspent's "no upper bound"
# Reject reasons (bitcoind's validation strings) that mean "pay more".
_FEE_REASONS = ("min relay fee not met", "mempool min fee not met", "insufficient fee")
_MAX_FEE_REASON = "Fee exceeds maximum"


class RpcError(CroupierError):
    """bitcoind answered a call with an error Croupier has no more specific type for."""

    code = "btc_rpc_error"

    def __init__(self, rpc_code: int, message: str, method: str) -> None:
        super().__init__(f"bitcoind {method} failed with code {rpc_code}: {message}")
        self.rpc_code = rpc_code
        self.rpc_message = message


def broadcast_error(rpc_code: int, message: str) -> BroadcastRejected | None:
    """The typed rejection for a ``sendrawtransaction`` error, or None if it is not one."""
    if rpc_code == RPC_VERIFY_REJECTED:
        if any(reason in message for reason in _FEE_REASONS):
            return BtcFeeTooLow(message)
        if "txn-mempool-conflict" in message:
            return MempoolConflict(message)
        return TransactionRejected(message)
    if rpc_code == RPC_VERIFY_ERROR:
        if _MAX_FEE_REASON in message:
            return MaxFeeExceeded(message)
        return InputsMissingOrSpent(message)
    if rpc_code == RPC_VERIFY_ALREADY_IN_CHAIN:
        return AlreadyInChain(message)
    if rpc_code == RPC_DESERIALIZATION_ERROR:
        return MalformedTransaction(message)
    return None


def sat_kvb_to_btc_text(rate_sat_kvb: int) -> str:
    """A sat/kvB feerate as bitcoind's BTC/kvB amount text (exact, 8 decimals)."""
    whole, fraction = divmod(rate_sat_kvb, SAT_PER_BTC)
    return f"{whole}.{fraction:08d}"


class BitcoindRpc:
    """A ``BitcoinBackend`` talking to one bitcoind over HTTP."""

    def __init__(
        self,
        url: str,
        *,
        user: str | None,
        password: str | None,
        wallet: str,
        timeout_s: float,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise ConfigurationError(f"a bitcoind RPC URL is http(s)://host:port, got {url!r}")
        if not wallet or "/" in wallet:
            raise ConfigurationError(f"bad watch-only wallet name {wallet!r}")
        auth = httpx.BasicAuth(user, password or "") if user is not None else None
        self._http = httpx.Client(
            base_url=url.rstrip("/"), auth=auth, timeout=timeout_s, transport=transport
        )
        self._wallet = wallet
        self._ids = itertools.count(1)

    @classmethod
    def from_settings(cls, settings: Settings) -> BitcoindRpc:
        if settings.btc_rpc_url is None:
            raise ConfigurationError("CROUPIER_BTC_RPC_URL is not set; Bitcoin is disabled")
        password = settings.btc_rpc_password
        return cls(
            settings.btc_rpc_url,
            user=settings.btc_rpc_user,
            password=password.get_secret_value() if password is not None else None,
            wallet=settings.btc_rpc_wallet,
            timeout_s=settings.btc_rpc_timeout_s,
        )

    def close(self) -> None:
        self._http.close()

    def __repr__(self) -> str:
        return f"BitcoindRpc({self._http.base_url}, wallet={self._wallet!r})"

    # -- chain -----------------------------------------------------------------------

    def block_count(self) -> int:
        return int(self._call("getblockcount"))

    def block_hash(self, height: int) -> str | None:
        found = self._call_or_none("getblockhash", [height], RPC_INVALID_PARAMETER)
        return None if found is None else str(found)

    def block_header(self, block_hash: str) -> NodeBlockHeader | None:
        header = self._call_or_none("getblockheader", [block_hash, True])
        return None if header is None else _header(header)

    def block(self, block_hash: str) -> NodeBlock | None:
        block = self._call_or_none("getblock", [block_hash, 2])
        if block is None:
            return None
        return NodeBlock(
            header=_header(block), transactions=tuple(_transaction(tx) for tx in block["tx"])
        )

    def raw_transaction(self, txid: str) -> TxLookup | None:
        found = self._call_or_none("getrawtransaction", [txid, True])
        if found is None:
            return None
        return TxLookup(
            txid=found["txid"],
            raw=bytes.fromhex(found["hex"]),
            block_hash=found.get("blockhash"),
            confirmations=int(found.get("confirmations", 0)),
        )

    def send_raw_transaction(self, raw: bytes, *, max_fee_rate_sat_kvb: int) -> str:
        try:
            return str(
                self._call(
                    "sendrawtransaction", [raw.hex(), sat_kvb_to_btc_text(max_fee_rate_sat_kvb)]
                )
            )
        except RpcError as error:
            rejection = broadcast_error(error.rpc_code, error.rpc_message)
            if rejection is None:
                raise
            raise rejection from None

    def estimate_smart_fee(self, target_blocks: int) -> int | None:
        estimate = self._call("estimatesmartfee", [target_blocks])
        rate = estimate.get("feerate")
        return None if rate is None else btc_to_sat(rate)

    def mempool_min_fee(self) -> int:
        return btc_to_sat(self._call("getmempoolinfo")["mempoolminfee"])

    # -- watch-only wallet -----------------------------------------------------------

    def watch_addresses(self, addresses: Sequence[str], *, rescan_from: int | None = None) -> None:
        timestamp: int | str = "now" if rescan_from is None else rescan_from
        for start in range(0, len(addresses), MAX_IMPORT_BATCH):
            batch = addresses[start : start + MAX_IMPORT_BATCH]
            requests = [
                {"desc": descriptor_checksum(f"addr({address})"), "timestamp": timestamp}
                for address in batch
            ]
            results = self._wallet_call("importdescriptors", [requests])
            for address, result in zip(batch, results, strict=True):
                if not result.get("success"):
                    error = result.get("error", {})
                    raise RpcError(
                        int(error.get("code", 0)),
                        f"{address}: {error.get('message')}",
                        "importdescriptors",
                    )

    def list_unspent(
        self, addresses: Sequence[str], *, min_confirmations: int, limit: int
    ) -> tuple[Unspent, ...]:
        if not addresses:
            return ()
        entries = self._wallet_call(
            "listunspent",
            [min_confirmations, MAX_CONFIRMATIONS, list(addresses), True, {"maximumCount": limit}],
        )
        return tuple(
            Unspent(
                txid=entry["txid"],
                vout=int(entry["vout"]),
                address=entry["address"],
                value_sat=btc_to_sat(entry["amount"]),
                confirmations=int(entry["confirmations"]),
            )
            for entry in entries
        )

    # -- transport -------------------------------------------------------------------

    def _wallet_call(self, method: str, params: list[Any]) -> Any:
        path = f"/wallet/{self._wallet}"
        try:
            return self._call(method, params, path=path)
        except RpcError as error:
            if error.rpc_code != RPC_WALLET_NOT_FOUND:
                raise
        self._load_or_create_wallet()
        return self._call(method, params, path=path)

    def _load_or_create_wallet(self) -> None:
        try:
            self._call("loadwallet", [self._wallet])
            return
        except RpcError as error:
            if error.rpc_code == RPC_WALLET_ALREADY_LOADED:
                return
            if error.rpc_code != RPC_WALLET_NOT_FOUND:
                raise
        # name, disable_private_keys, blank, passphrase, avoid_reuse, descriptors, load_on_startup
        self._call("createwallet", [self._wallet, True, True, "", False, True, True])

    def _call_or_none(
        self, method: str, params: list[Any], not_found_code: int = RPC_INVALID_ADDRESS_OR_KEY
    ) -> Any:
        try:
            return self._call(method, params)
        except RpcError as error:
            if error.rpc_code == not_found_code:
                return None
            raise

    def _call(self, method: str, params: list[Any] | None = None, *, path: str = "/") -> Any:
        request_id = next(self._ids)
        body = {"jsonrpc": "1.0", "id": request_id, "method": method, "params": params or []}
        try:
            response = self._http.post(path, json=body)
        except httpx.HTTPError as error:
            raise NodeUnavailable(f"bitcoind did not answer {method}: {error}") from None
        if response.status_code in (401, 403):
            raise RpcCredentialsRejected(
                "bitcoind refused the RPC credentials; check CROUPIER_BTC_RPC_USER and "
                "CROUPIER_BTC_RPC_PASSWORD"
            )
        reply = _json_reply(response, method)
        failure = reply.get("error")
        if failure:
            code, message = int(failure.get("code", 0)), str(failure.get("message", ""))
            if code == RPC_IN_WARMUP:
                raise NodeUnavailable(f"bitcoind is starting up: {message}")
            raise RpcError(code, message, method)
        assert reply.get("id") == request_id, f"bitcoind answered id {reply.get('id')}"
        return reply.get("result")


def _json_reply(response: httpx.Response, method: str) -> Mapping[str, Any]:
    try:
        reply = json.loads(response.content, parse_float=Decimal)
    except ValueError:
        reply = None
    if not isinstance(reply, dict):
        raise NodeUnavailable(
            f"bitcoind answered {method} with HTTP {response.status_code} and no JSON-RPC body"
        )
    return reply


def _header(fields: Mapping[str, Any]) -> NodeBlockHeader:
    return NodeBlockHeader(
        hash=fields["hash"],
        height=int(fields["height"]),
        previous_hash=fields.get("previousblockhash", GENESIS_PARENT_HASH),
        confirmations=int(fields["confirmations"]),
    )


def _transaction(tx: Mapping[str, Any]) -> NodeTransaction:
    is_coinbase = any("coinbase" in vin for vin in tx["vin"])
    inputs = (
        () if is_coinbase else tuple(OutPoint(vin["txid"], int(vin["vout"])) for vin in tx["vin"])
    )
    outputs = tuple(
        NodeTxOutput(
            n=int(vout["n"]),
            value_sat=btc_to_sat(vout["value"]),
            script_pubkey=bytes.fromhex(vout["scriptPubKey"]["hex"]),
            address=vout["scriptPubKey"].get("address"),
        )
        for vout in tx["vout"]
    )
    return NodeTransaction(txid=tx["txid"], is_coinbase=is_coinbase, inputs=inputs, outputs=outputs)
