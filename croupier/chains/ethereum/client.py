"""The Ethereum ``ChainClient``: web3 8 over HTTP JSON-RPC, synchronous.

Scanning a range is one JSON-RPC batch: ``eth_getBlockByNumber(n, full)`` for every
block (native ETH sent to a watched address is a transaction's ``value``) plus one
``eth_getLogs`` for ERC-20 ``Transfer`` events of the configured token contracts whose
indexed ``to`` topic is a watched address. Because several calls make one answer, every
answer is cross-checked (blocks linked by parent hash, logs and receipts from exactly
those blocks); a mismatch means the chain moved under us and raises ``ChainMoved``.
With ``internal_transfers`` on, the blocks that hold transactions are also traced, by
hash (``debug_traceBlockByHash``, one more batch), for ETH that contracts moved to a
watched address (``croupier.chains.ethereum.traces``).

web3's own retries are off: a node that does not answer surfaces at once as
``NodeUnavailable`` and Temporal's retry policy, which is visible and bounded, decides.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import requests
from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from eth_typing import ChecksumAddress, HexStr
from eth_utils.crypto import keccak
from web3 import Web3
from web3.exceptions import BlockNotFound, TransactionNotFound, Web3RPCError
from web3.providers.base import JSONBaseProvider
from web3.types import BlockIdentifier, FilterParams, RPCEndpoint, RPCError, TxParams, Wei

from croupier.chains.base import (
    NATIVE_TRANSFER_LOG_INDEX,
    BlockHeader,
    FeeEstimate,
    IncomingTransfer,
    ScanResult,
    TxState,
    TxStatus,
)
from croupier.chains.errors import (
    BroadcastRejected,
    ChainMoved,
    FeeTooLow,
    InsufficientGasFunds,
    NodeUnavailable,
    NonceTooLow,
)
from croupier.chains.ethereum.addresses import address_topic, parse_address, topic_address
from croupier.chains.ethereum.traces import TRACER, internal_transfers
from croupier.chains.ethereum.tx import WEI_PER_GAS, with_gas_margin
from croupier.chains.reorg import is_linked
from croupier.core.errors import ConfigurationError, InvalidInput
from croupier.core.money import Currency
from croupier.core.settings import Settings

CHAIN = "ethereum"
MAX_SCAN_BLOCKS = 500  # one batch of full blocks; bounded so one call has a known cost
DEFAULT_SCAN_BLOCKS = 100
# eth_getLogs takes the watched set as one OR-list of topics; past this, partition it.
MAX_WATCHED_ADDRESSES = 10_000
MAX_TOKENS = 8
TRANSFER_EVENT_TOPIC = keccak(text="Transfer(address,address,uint256)")
BALANCE_OF_SELECTOR = keccak(text="balanceOf(address)")[:4]
_TX_HASH_RE = re.compile(r"^0x[0-9a-fA-F]{64}$")

# Node error texts (geth, erigon, anvil, reth) mapped to what the sender should do.
_ALREADY_KNOWN = ("already known", "already imported", "known transaction")
_NONCE_TOO_LOW = ("nonce too low",)
_FEE_TOO_LOW = ("underpriced", "less than block base fee", "fee too low")
_NO_FUNDS = ("insufficient funds",)
_NO_SUCH_METHOD = ("method not found", "does not exist", "not available", "unsupported")
JSON_RPC_METHOD_NOT_FOUND = -32601


class EthereumClient:
    """A ``ChainClient`` for one Ethereum node, watching ETH and configured ERC-20s."""

    def __init__(
        self,
        w3: Web3,
        *,
        tokens: Mapping[str, Currency] | None = None,
        max_scan_blocks: int = DEFAULT_SCAN_BLOCKS,
        internal_transfers: bool = False,
    ) -> None:
        if not 1 <= max_scan_blocks <= MAX_SCAN_BLOCKS:
            raise ConfigurationError(
                f"a scan covers 1..{MAX_SCAN_BLOCKS} blocks, got {max_scan_blocks}"
            )
        token_map = {parse_address(a): currency for a, currency in (tokens or {}).items()}
        if len(token_map) > MAX_TOKENS:
            raise ConfigurationError(f"at most {MAX_TOKENS} token contracts, got {len(token_map)}")
        for address, currency in token_map.items():
            if currency.chain != CHAIN or currency is Currency.ETH:
                raise ConfigurationError(f"{currency} at {address} is not an Ethereum token")
        self._w3 = w3
        self._tokens = token_map
        self._max_scan_blocks = max_scan_blocks
        self._internal_transfers = internal_transfers

    @classmethod
    def from_settings(cls, settings: Settings) -> EthereumClient:
        """A client for ``CROUPIER_ETH_RPC_URL``, watching USDT if its contract is set."""
        provider = Web3.HTTPProvider(
            settings.eth_rpc_url,
            request_kwargs={"timeout": settings.eth_rpc_timeout_s},
            exception_retry_configuration=None,
        )
        tokens = {}
        if settings.usdt_contract_address is not None:
            tokens[settings.usdt_contract_address] = Currency.USDT
        return cls(
            Web3(provider),
            tokens=tokens,
            max_scan_blocks=settings.eth_scan_batch_blocks,
            internal_transfers=settings.eth_internal_transfers,
        )

    @property
    def chain(self) -> str:
        return CHAIN

    @property
    def max_scan_blocks(self) -> int:
        return self._max_scan_blocks

    @property
    def web3(self) -> Web3:
        """The underlying connection, for dev tooling (deploying the test token)."""
        return self._w3

    def token_address(self, currency: Currency) -> ChecksumAddress:
        """The configured contract of an ERC-20 ``currency``."""
        for address, token_currency in self._tokens.items():
            if token_currency is currency:
                return address
        raise ConfigurationError(
            f"no {currency} contract is configured; set CROUPIER_{currency}_CONTRACT_ADDRESS"
        )

    # -- reading the chain ---------------------------------------------------------------

    def chain_id(self) -> int:
        with _node_errors(self._w3):
            return int(self._w3.eth.chain_id)

    def ensure_chain_id(self, expected: int) -> None:
        """Refuse a node of another chain: its "deposits" would be credited as real money."""
        actual = self.chain_id()
        if actual != expected:
            raise ConfigurationError(
                f"the node at {_endpoint(self._w3)} serves chain id {actual}, but "
                f"CROUPIER_ETH_CHAIN_ID is {expected}"
            )

    def head_number(self) -> int:
        with _node_errors(self._w3):
            return int(self._w3.eth.block_number)

    def header(self, number: int) -> BlockHeader | None:
        _check_block_number(number)
        with _node_errors(self._w3):
            try:
                block = self._w3.eth.get_block(number)
            except BlockNotFound:
                return None
        return _header(block)

    def headers(self, first: int, last: int) -> tuple[BlockHeader, ...]:
        self._check_range(first, last)
        last = min(last, self.head_number())
        if last < first:
            return ()
        blocks = self._batch(self._w3.eth.get_block(n) for n in range(first, last + 1))
        headers = tuple(_header(block) for block in blocks)
        if not is_linked(headers):
            raise ChainMoved(f"blocks {first}..{last} changed while being read")
        return headers

    def scan(self, first: int, last: int, watched: Collection[str]) -> ScanResult:
        self._check_range(first, last)
        if len(watched) > MAX_WATCHED_ADDRESSES:
            raise InvalidInput(
                f"at most {MAX_WATCHED_ADDRESSES} watched addresses per scan, got {len(watched)}"
            )
        watched_set = frozenset(parse_address(address) for address in watched)
        wants_logs = bool(self._tokens and watched_set)

        def calls() -> Iterator[Any]:
            for number in range(first, last + 1):
                yield self._w3.eth.get_block(number, full_transactions=True)
            if wants_logs:
                yield self._w3.eth.get_logs(self._transfer_filter(first, last, watched_set))

        responses = self._batch(calls())
        blocks = responses[: last - first + 1]
        headers = tuple(_header(block) for block in blocks)
        if not is_linked(headers) or headers[0].number != first:
            raise ChainMoved(f"blocks {first}..{last} changed while being scanned")
        by_number = {header.number: header for header in headers}
        candidates = _native_candidates(blocks, watched_set)
        found = self._confirmed_native(candidates, by_number)
        if wants_logs:
            found += self._token_transfers(responses[-1], by_number, watched_set)
        if self._internal_transfers and watched_set:
            found += self._traced_transfers(blocks, headers, watched_set)
        found.sort(key=lambda item: item[0])
        return ScanResult(headers=headers, transfers=tuple(transfer for _, transfer in found))

    def transaction_status(self, tx_hash: str) -> TxStatus:
        _check_tx_hash(tx_hash)
        with _node_errors(self._w3):
            try:
                receipt = self._w3.eth.get_transaction_receipt(HexStr(tx_hash))
            except TransactionNotFound:
                return self._unmined_status(tx_hash)
        number = int(receipt["blockNumber"])
        block_hash = receipt["blockHash"].to_0x_hex()
        head = self.head_number()
        canonical = self.header(number)
        if canonical is None or canonical.hash != block_hash or head < number:
            raise ChainMoved(f"the receipt of {tx_hash} names a block that is no longer canonical")
        return TxStatus(
            tx_hash=tx_hash,
            state=TxState.INCLUDED if receipt["status"] == 1 else TxState.FAILED,
            block_number=number,
            block_hash=block_hash,
            confirmations=head - number + 1,
        )

    def fee_estimate(self) -> FeeEstimate:
        with _node_errors(self._w3):
            history = self._w3.eth.fee_history(1, "latest", [])
            priority_fee_wei = int(self._w3.eth.max_priority_fee)
        # baseFeePerGas has one entry more than blocks asked for: the next block's.
        return FeeEstimate(
            chain=CHAIN,
            fee_unit=WEI_PER_GAS,
            base_fee=int(history["baseFeePerGas"][-1]),
            priority_fee=priority_fee_wei,
        )

    def balance(self, address: str, currency: Currency) -> int:
        owner = parse_address(address)
        with _node_errors(self._w3):
            if currency is Currency.ETH:
                return int(self._w3.eth.get_balance(owner))
            token = self.token_address(currency)
            answer = self._w3.eth.call(
                {"to": token, "data": BALANCE_OF_SELECTOR + abi_encode(["address"], [owner])}
            )
        (amount,) = abi_decode(["uint256"], answer)
        return int(amount)

    # -- Ethereum specifics the hot-wallet sender needs ------------------------------------

    def nonce(self, address: str, *, include_pending: bool) -> int:
        """The next nonce of ``address``: after mined transactions, or after pending ones too."""
        block: BlockIdentifier = "pending" if include_pending else "latest"
        with _node_errors(self._w3):
            return int(self._w3.eth.get_transaction_count(parse_address(address), block))

    def estimate_gas_limit(
        self, sender: str, to: str | None, data: bytes, value_wei: int = 0
    ) -> int:
        """A gas limit for this call (``to=None``: a deployment), with a safety margin."""
        call: TxParams = {"from": parse_address(sender), "data": data, "value": Wei(value_wei)}
        if to is not None:
            call["to"] = parse_address(to)
        with _node_errors(self._w3):
            estimated = int(self._w3.eth.estimate_gas(call))
        return with_gas_margin(estimated)

    def broadcast(self, raw_tx: bytes) -> str:
        tx_hash = "0x" + keccak(raw_tx).hex()
        with _node_errors(self._w3):
            try:
                sent = self._w3.eth.send_raw_transaction(raw_tx)
            except Web3RPCError as error:
                reason = _rpc_error_text(error)
            else:
                assert sent.to_0x_hex() == tx_hash, "the node hashed the transaction differently"
                return tx_hash
        if _mentions(reason, _ALREADY_KNOWN):
            return tx_hash
        rejection = _rejection(reason)
        # Re-sending a transaction that is already mined reads "nonce too low" as well; it
        # is the same transaction, so the send is a no-op rather than a failure.
        if isinstance(rejection, NonceTooLow) and self._node_knows(tx_hash):
            return tx_hash
        raise rejection

    # -- internals -------------------------------------------------------------------------

    def _check_range(self, first: int, last: int) -> None:
        _check_block_number(first)
        if not first <= last < first + self._max_scan_blocks:
            raise InvalidInput(
                f"block range {first}..{last} must be non-empty and span at most "
                f"{self._max_scan_blocks} blocks"
            )

    def _batch(self, calls: Iterator[Any]) -> list[Any]:
        """Run web3 calls as one JSON-RPC batch (one HTTP round trip).

        ``calls`` must be lazy (a generator): web3 turns ``w3.eth.get_block(...)`` into a
        queued request only while the batch is open; evaluated earlier, it runs at once.
        """
        with _node_errors(self._w3), self._w3.batch_requests() as batch:
            for call in calls:
                batch.add(call)
            try:
                return list(batch.execute())
            except BlockNotFound:
                raise ChainMoved(
                    "a block disappeared while being read; the chain got shorter"
                ) from None

    def _transfer_filter(
        self, first: int, last: int, watched: frozenset[ChecksumAddress]
    ) -> FilterParams:
        return {
            "fromBlock": first,
            "toBlock": last,
            "address": sorted(self._tokens),
            "topics": [
                "0x" + TRANSFER_EVENT_TOPIC.hex(),
                None,
                sorted(address_topic(address) for address in watched),
            ],
        }

    def _confirmed_native(
        self,
        candidates: list[tuple[tuple[int, int, int], Mapping[str, Any]]],
        by_number: Mapping[int, BlockHeader],
    ) -> list[tuple[tuple[int, int, int], IncomingTransfer]]:
        """Native transfers whose transaction succeeded, checked against its receipt.

        A value transfer to a plain account cannot revert, but a watched address with code
        (a contract, or an EIP-7702 delegation) can: crediting a reverted transfer would
        credit money that never arrived. Receipts are fetched only for the candidates.
        """
        if not candidates:
            return []
        receipts = self._batch(
            self._w3.eth.get_transaction_receipt(tx["hash"]) for _, tx in candidates
        )
        found = []
        for (key, tx), receipt in zip(candidates, receipts, strict=True):
            header = by_number[int(tx["blockNumber"])]
            if receipt["blockHash"].to_0x_hex() != header.hash:
                raise ChainMoved(f"block {header.number} changed while its receipts were read")
            if receipt["status"] != 1:
                continue
            found.append((key, _native_transfer(tx, header)))
        return found

    def _token_transfers(
        self,
        logs: Sequence[Mapping[str, Any]],
        by_number: Mapping[int, BlockHeader],
        watched: frozenset[ChecksumAddress],
    ) -> list[tuple[tuple[int, int, int], IncomingTransfer]]:
        found = []
        for log in logs:
            header = by_number.get(int(log["blockNumber"]))
            if header is None or log["blockHash"].to_0x_hex() != header.hash or log["removed"]:
                raise ChainMoved("logs and blocks disagree; the chain moved during the scan")
            transfer = _token_transfer(log, header, self._tokens, watched)
            if transfer is not None:
                key = (header.number, int(log["transactionIndex"]), transfer.log_index)
                found.append((key, transfer))
        return found

    def _traced_transfers(
        self,
        blocks: Sequence[Mapping[str, Any]],
        headers: Sequence[BlockHeader],
        watched: frozenset[ChecksumAddress],
    ) -> list[tuple[tuple[int, int, int], IncomingTransfer]]:
        """ETH moved to watched addresses by calls inside the blocks' transactions."""
        busy = [(b, h) for b, h in zip(blocks, headers, strict=True) if b["transactions"]]
        if not busy:
            return []
        method = RPCEndpoint("debug_traceBlockByHash")
        provider = self._w3.provider
        assert isinstance(provider, JSONBaseProvider), "JSON-RPC providers batch requests"
        with _node_errors(self._w3):
            responses = provider.make_batch_request(
                [(method, [header.hash, TRACER]) for _, header in busy]
            )
        if not isinstance(responses, list):  # the node refused the whole batch
            raise _trace_failure(responses.get("error"))
        found = []
        for (block, header), response in zip(busy, responses, strict=True):
            if "error" in response:
                raise _trace_failure(response["error"], header)
            tx_hashes = [tx["hash"].to_0x_hex() for tx in block["transactions"]]
            for index, transfer in internal_transfers(
                header, tx_hashes, response["result"], watched
            ):
                found.append(((header.number, index, transfer.log_index), transfer))
        return found

    def _node_knows(self, tx_hash: str) -> bool:
        """Whether the node has the transaction, mined or in its mempool."""
        with _node_errors(self._w3):
            try:
                self._w3.eth.get_transaction(HexStr(tx_hash))
            except TransactionNotFound:
                return False
        return True

    def _unmined_status(self, tx_hash: str) -> TxStatus:
        # Known but without a receipt: in the mempool (or mined this instant; ask again).
        state = TxState.PENDING if self._node_knows(tx_hash) else TxState.UNKNOWN
        return TxStatus(tx_hash=tx_hash, state=state)


def _header(block: Mapping[str, Any]) -> BlockHeader:
    return BlockHeader(
        number=int(block["number"]),
        hash=block["hash"].to_0x_hex(),
        parent_hash=block["parentHash"].to_0x_hex(),
    )


def _native_candidates(
    blocks: Sequence[Mapping[str, Any]], watched: frozenset[ChecksumAddress]
) -> list[tuple[tuple[int, int, int], Mapping[str, Any]]]:
    """Transactions carrying ETH to a watched address, with their sort key."""
    return [
        ((int(block["number"]), int(tx["transactionIndex"]), NATIVE_TRANSFER_LOG_INDEX), tx)
        for block in blocks
        for tx in block["transactions"]
        if tx.get("to") in watched and int(tx["value"]) > 0
    ]


def _native_transfer(tx: Mapping[str, Any], header: BlockHeader) -> IncomingTransfer:
    return IncomingTransfer(
        chain=CHAIN,
        tx_hash=tx["hash"].to_0x_hex(),
        log_index=NATIVE_TRANSFER_LOG_INDEX,
        block_number=header.number,
        block_hash=header.hash,
        from_address=tx["from"],
        to_address=tx["to"],
        currency=Currency.ETH,
        amount=int(tx["value"]),
    )


def _token_transfer(
    log: Mapping[str, Any],
    header: BlockHeader,
    tokens: Mapping[ChecksumAddress, Currency],
    watched: frozenset[ChecksumAddress],
) -> IncomingTransfer | None:
    """An ERC-20 ``Transfer`` log as a transfer, or None for what is not a deposit.

    Skipped: logs of other contracts or events, ERC-721 style ``Transfer`` (the amount
    indexed as a fourth topic), zero-value transfers (spam), and recipients we do not
    watch. The node filters on all of these already; this re-checks rather than trusts.
    """
    topics = log["topics"]
    currency = tokens.get(log["address"])
    if currency is None or len(topics) != 3 or bytes(topics[0]) != TRANSFER_EVENT_TOPIC:
        return None
    data = bytes(log["data"])
    if len(data) != 32:
        return None
    recipient = topic_address(bytes(topics[2]))
    amount = int.from_bytes(data, "big")
    if recipient not in watched or amount == 0:
        return None
    return IncomingTransfer(
        chain=CHAIN,
        tx_hash=log["transactionHash"].to_0x_hex(),
        log_index=int(log["logIndex"]),
        block_number=header.number,
        block_hash=header.hash,
        from_address=topic_address(bytes(topics[1])),
        to_address=recipient,
        currency=currency,
        amount=amount,
    )


def _trace_failure(
    error: RPCError | str | None, header: BlockHeader | None = None
) -> ConfigurationError | ChainMoved | NodeUnavailable:
    """A node without the debug API is misconfigured for this setting; a block it no
    longer has was reorganized away meanwhile; anything else is the node's trouble."""
    code = error.get("code") if isinstance(error, Mapping) else None
    message = str(error.get("message") if isinstance(error, Mapping) else error)
    if code == JSON_RPC_METHOD_NOT_FOUND or _mentions(message, _NO_SUCH_METHOD):
        return ConfigurationError(
            "the Ethereum node does not trace calls (debug_traceBlockByHash): use a node "
            "with the debug API or turn off CROUPIER_ETH_INTERNAL_TRANSFERS"
        )
    if header is not None and "not found" in message.lower():
        return ChainMoved(f"block {header.number} went away while its calls were traced")
    return NodeUnavailable(f"the Ethereum node failed to trace calls: {message}")


def _check_block_number(number: int) -> None:
    if isinstance(number, bool) or not isinstance(number, int) or number < 0:
        raise InvalidInput(f"a block number is a non-negative integer, got {number!r}")


def _check_tx_hash(tx_hash: str) -> None:
    if not isinstance(tx_hash, str) or not _TX_HASH_RE.match(tx_hash):
        raise InvalidInput(f"{tx_hash!r} is not a transaction hash (0x and 64 hex digits)")


def _rpc_error_text(error: Web3RPCError) -> str:
    response = error.rpc_response or {}
    body = response.get("error")
    if isinstance(body, Mapping) and isinstance(body.get("message"), str):
        return str(body["message"])
    return str(error.message)


def _mentions(reason: str, phrases: Sequence[str]) -> bool:
    lowered = reason.lower()
    return any(phrase in lowered for phrase in phrases)


def _rejection(reason: str) -> BroadcastRejected:
    if _mentions(reason, _NONCE_TOO_LOW):
        return NonceTooLow(reason)
    if _mentions(reason, _FEE_TOO_LOW):
        return FeeTooLow(reason)
    if _mentions(reason, _NO_FUNDS):
        return InsufficientGasFunds(reason)
    return BroadcastRejected(reason)


@contextmanager
def _node_errors(w3: Web3) -> Iterator[None]:
    """Transport failures become ``NodeUnavailable``; the message names the node only."""
    try:
        yield
    except (requests.ConnectionError, requests.Timeout, requests.HTTPError) as error:
        raise NodeUnavailable(
            f"the Ethereum node at {_endpoint(w3)} did not answer ({type(error).__name__})"
        ) from None


def _endpoint(w3: Web3) -> str:
    return str(getattr(w3.provider, "endpoint_uri", "?"))
