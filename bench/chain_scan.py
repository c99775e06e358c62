"""Deposit scanning speed: the scanner's blocks/s against raw eth_getBlockByNumber calls/s.

Starts a private Anvil, deploys DevUSDT, and mines ``--blocks`` blocks of deposit
traffic: every block carries background payments between strangers, and some carry
ETH or USDT deposits to watched addresses. Then, in the same run and against the same
node, it times

- the limit: one raw ``eth_getBlockByNumber(n, true)`` JSON-RPC call per block, with no
  parsing at all (the cheapest way to look at every block one by one), and
- the scanner: ``EthereumClient.scan`` over the same blocks in batches of
  ``--batch`` (full blocks, the token's Transfer logs, receipts of native deposits,
  linkage and hash checks, typed records).

and checks the scanner found exactly the deposits that were made. Each side runs
``--rounds`` times, best round counts. The last line is JSON with the ratio
(target >= 0.5).

    python -m bench.chain_scan [--blocks 500] [--batch 100] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eth_account import Account
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from web3 import HTTPProvider, Web3
from web3.types import RPCEndpoint

from croupier.chains.ethereum.addresses import parse_address
from croupier.chains.ethereum.client import MAX_SCAN_BLOCKS, EthereumClient
from croupier.chains.ethereum.token import deploy_token, mint_token
from croupier.chains.ethereum.tx import address_of, encode_erc20_transfer
from croupier.chains.keys import SigningKey
from croupier.core.money import Currency
from croupier.core.settings import Settings
from croupier.workers import devstack

HOST = "127.0.0.1"
GET_BLOCK = RPCEndpoint("eth_getBlockByNumber")
SEND_TRANSACTION = RPCEndpoint("eth_sendTransaction")
TARGET_RATIO = 0.5
WATCHED_ADDRESSES = 200
DEPOSIT_BLOCK_SHARE = 0.3  # share of blocks carrying deposits to watched addresses
NOISE_TXS_PER_BLOCK = (2, 8)
TOKEN_TRANSFER_GAS = 80_000
# Anvil's unlocked dev accounts 0..4 pay (eth_sendTransaction, no signing in the loop);
# account 5 deploys the token.
PAYERS = (
    "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
    "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
    "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
    "0x90F79bf6EB2c4f870365E785982E1f101E93b906",
    "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65",
)
DEPLOYER_KEY = SigningKey.from_hex(
    "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba"
)


@dataclass(frozen=True)
class Traffic:
    first_block: int
    last_block: int
    watched: tuple[str, ...]
    deposits: int


def rpc(w3: Web3, method: str, params: list[Any]) -> Any:
    response = w3.provider.make_request(RPCEndpoint(method), params)
    assert "error" not in response, response
    return response["result"]


def produce_traffic(w3: Web3, token: str, blocks: int, progress: Progress) -> Traffic:
    """Mine ``blocks`` blocks of background payments and deposits; count the deposits."""
    rng = random.Random(20240501)
    watched = tuple(Account.create().address for _ in range(WATCHED_ADDRESSES))
    strangers = tuple(Account.create().address for _ in range(50))
    deposits = 0
    nonces = {payer: int(w3.eth.get_transaction_count(parse_address(payer))) for payer in PAYERS}
    rpc(w3, "anvil_setAutomine", [False])
    first = int(w3.eth.block_number) + 1
    task = progress.add_task("mining deposit traffic", total=blocks)
    try:
        for _ in range(blocks):
            txs = [
                payment(rng, rng.choice(strangers), token, nonces)
                for _ in range(rng.randint(*NOISE_TXS_PER_BLOCK))
            ]
            if rng.random() < DEPOSIT_BLOCK_SHARE:
                for _ in range(rng.randint(1, 3)):
                    txs.append(payment(rng, rng.choice(watched), token, nonces))
                    deposits += 1
            send_all(w3, txs)
            rpc(w3, "evm_mine", [])
            progress.advance(task)
    finally:
        rpc(w3, "anvil_setAutomine", [True])
    last = int(w3.eth.block_number)
    assert last - first + 1 == blocks, "every loop mines exactly one block"
    return Traffic(first_block=first, last_block=last, watched=watched, deposits=deposits)


def payment(rng: random.Random, to: str, token: str, nonces: dict[str, int]) -> dict[str, str]:
    """An ETH payment or a USDT transfer to ``to`` from one of the dev payers."""
    sender = rng.choice(PAYERS)
    nonce = hex(nonces[sender])
    nonces[sender] += 1
    if rng.random() < 0.5:
        return {"from": sender, "nonce": nonce, "to": to, "value": hex(rng.randint(10**14, 10**18))}
    amount = rng.randint(1, 5_000) * 10**6
    return {
        "from": sender,
        "nonce": nonce,
        "to": token,
        "data": "0x" + encode_erc20_transfer(to, amount).hex(),
        "gas": hex(TOKEN_TRANSFER_GAS),
    }


def send_all(w3: Web3, txs: list[dict[str, str]]) -> None:
    provider = w3.provider
    assert isinstance(provider, HTTPProvider)
    responses = provider.make_batch_request([(SEND_TRANSACTION, [tx]) for tx in txs])
    assert isinstance(responses, list), responses
    for response in responses:
        assert "error" not in response, response


def fund_payers_with_usdt(w3: Web3, token: str) -> None:
    for payer in PAYERS:
        mint_token(w3, token, DEPLOYER_KEY, payer, 10**18)


def time_raw_get_block(w3: Web3, traffic: Traffic) -> float:
    """Blocks/s of one raw eth_getBlockByNumber call per block, responses unparsed."""
    started = time.perf_counter()
    for number in range(traffic.first_block, traffic.last_block + 1):
        w3.provider.make_request(GET_BLOCK, [hex(number), True])
    return block_count(traffic) / (time.perf_counter() - started)


def time_scanner(client: EthereumClient, traffic: Traffic) -> tuple[float, int]:
    """Blocks/s of the scanner over the same blocks, and how many deposits it found."""
    found = 0
    started = time.perf_counter()
    for first in range(traffic.first_block, traffic.last_block + 1, client.max_scan_blocks):
        last = min(traffic.last_block, first + client.max_scan_blocks - 1)
        found += len(client.scan(first, last, traffic.watched).transfers)
    return block_count(traffic) / (time.perf_counter() - started), found


def block_count(traffic: Traffic) -> int:
    return traffic.last_block - traffic.first_block + 1


def best_of(rounds: int, measure: Callable[[], float], progress: Progress, label: str) -> float:
    task = progress.add_task(label, total=rounds)
    best = 0.0
    for _ in range(rounds):
        best = max(best, measure())
        progress.advance(task)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--blocks", type=int, default=500)
    parser.add_argument("--batch", type=int, default=Settings().eth_scan_batch_blocks)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if not 1 <= args.batch <= MAX_SCAN_BLOCKS or not 1 <= args.blocks <= 10_000:
        parser.error(f"--batch must be 1..{MAX_SCAN_BLOCKS} and --blocks 1..10000")

    console = Console(stderr=True)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with (
        devstack.running_anvil(name="anvil-bench") as url,
        Progress(*columns, console=console) as progress,
    ):
        w3 = Web3(Web3.HTTPProvider(url, exception_retry_configuration=None))
        token = deploy_token(w3, DEPLOYER_KEY)
        assert address_of(DEPLOYER_KEY) not in PAYERS
        fund_payers_with_usdt(w3, token)
        traffic = produce_traffic(w3, token, args.blocks, progress)
        client = EthereumClient(w3, tokens={token: Currency.USDT}, max_scan_blocks=args.batch)

        found_per_round: list[int] = []

        def scanner_round() -> float:
            rate, found = time_scanner(client, traffic)
            found_per_round.append(found)
            return rate

        raw_rate = best_of(
            args.rounds,
            lambda: time_raw_get_block(w3, traffic),
            progress,
            "raw eth_getBlockByNumber",
        )
        scan_rate = best_of(args.rounds, scanner_round, progress, "scanner")

    assert set(found_per_round) == {traffic.deposits}, (
        f"the scanner found {found_per_round} deposits, {traffic.deposits} were made"
    )
    ratio = scan_rate / raw_rate
    console.print(
        f"{block_count(traffic)} blocks, {traffic.deposits} deposits to {len(traffic.watched)} "
        f"watched addresses; scanner {scan_rate:,.0f} blocks/s vs raw get_block "
        f"{raw_rate:,.0f} blocks/s: ratio {ratio:.2f} (target >= {TARGET_RATIO})"
    )
    print(
        json.dumps(
            {
                "benchmark": "chain_scan",
                "blocks": block_count(traffic),
                "batch_blocks": args.batch,
                "deposits": traffic.deposits,
                "scanner_blocks_per_s": round(scan_rate, 1),
                "raw_get_block_per_s": round(raw_rate, 1),
                "ratio": round(ratio, 3),
                "target": TARGET_RATIO,
                "passed": ratio >= TARGET_RATIO,
            }
        )
    )


if __name__ == "__main__":
    main()
