"""docs/provably-fair.md is the contract: its examples run, and a stranger's code agrees.

The second implementation below is written from the document's text alone, with the
standard library's ``hmac`` and exact ``Fraction`` floats (not the words and integer
shortcuts the engine uses), and it reads the plinko tables out of the document.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import re
import shlex
from fractions import Fraction
from math import comb
from pathlib import Path

import pytest

from croupier.games import verify
from croupier.games.crash import Crash
from croupier.games.hashchain import chain_round, generate_chain
from croupier.games.plinko import Plinko, Risk
from croupier.workers import cli

DOC = (Path(__file__).parents[3] / "docs" / "provably-fair.md").read_text()
EXAMPLES = re.findall(r"```console\n\$ croupier (verify [^\n]+)\n(\{[^\n]+\})\n```", DOC)
SERVER_SEED = "6d239cd1c7a6ad85efa5a5a57be0a4158a34d392e48feec92a3ed0d564365366"
CLIENT_SEED = "lucky-player-42"
CHAIN_SECRET = "b25a6fa3241a7ccbf6e62dd95346aa0fca57642929e8af33939e1d98a48b2cf6"
SALT = "0000000000000000000301e2801a9a9598bfb114e574a91a887f2132f33047e6"


# --- A stranger's implementation, from sections 2 and 4 of the document. ---


def stranger_round(server_seed: str, client_seed: str, nonce: int, round_: int) -> bytes:
    message = f"{client_seed}:{nonce}:{round_}".encode("ascii")
    return hmac.new(server_seed.encode("ascii"), message, hashlib.sha256).digest()


def stranger_floats(server_seed: str, client_seed: str, nonce: int, count: int) -> list[Fraction]:
    stream = b"".join(
        stranger_round(server_seed, client_seed, nonce, r) for r in range(math.ceil(count / 8))
    )
    return [
        sum((Fraction(stream[i + j], 256 ** (j + 1)) for j in range(4)), Fraction(0))
        for i in range(0, 4 * count, 4)
    ]


def stranger_dice(floats: list[Fraction]) -> Fraction:
    return Fraction(math.floor(floats[0] * 10001), 100)


def stranger_limbo(floats: list[Fraction]) -> Fraction:
    if floats[0] == 0:
        return Fraction(1_000_000)
    result = Fraction(math.floor(Fraction(99, 100) / floats[0] * 100), 100)
    return min(Fraction(1_000_000), max(Fraction(1), result))


def stranger_plinko(floats: list[Fraction]) -> list[int]:
    return [math.floor(f * 2) for f in floats]


def stranger_mines(floats: list[Fraction], mines: int) -> list[int]:
    remaining = list(range(25))
    order = [remaining.pop(math.floor(f * (25 - i))) for i, f in enumerate(floats)]
    return sorted(order[:mines])


def stranger_crash(game_hash: str, salt: str) -> Fraction:
    h = hmac.new(salt.encode(), game_hash.encode(), hashlib.sha256).hexdigest()
    x = Fraction(int(h[:13], 16), 2**52)
    return max(Fraction(1), Fraction(math.floor(99 / (1 - x)), 100))


def doc_plinko_tables() -> dict[tuple[int, str], list[Fraction]]:
    """The tables as printed in section 4.3, mirrored to full length."""
    tables = {}
    for risk, block in re.findall(r"^(Low|Medium|High) risk:\n\n(.*?)\n\n", DOC, re.M | re.S):
        for rows_text, values in re.findall(r"^\| (\d+) \| ([\d., ]+) \| 99% \|", block, re.M):
            rows, half = int(rows_text), [Fraction(v) for v in values.split(", ")]
            inner = half[:-1] if rows % 2 == 0 else half
            tables[rows, risk.lower()] = half + inner[::-1]
    return tables


def _verify(game: str, params: dict[str, str], nonce: int) -> dict[str, object]:
    return dict(verify(game, params, server_seed=SERVER_SEED, client_seed=CLIENT_SEED, nonce=nonce))


def two_places(value: Fraction) -> str:
    """A multiple of 0.01 as the verifier prints it: 95.67, 1000000.00."""
    hundredths = value * 100
    assert hundredths.denominator == 1, value
    return f"{hundredths.numerator // 100}.{hundredths.numerator % 100:02d}"


# --- The document's examples. ---


def test_the_document_has_a_worked_example_for_every_game() -> None:
    games = [command.split()[1] for command, _ in EXAMPLES]
    assert games == ["dice", "limbo", "plinko", "mines", "crash"]


@pytest.mark.parametrize(("command", "printed"), EXAMPLES, ids=[c.split()[1] for c, _ in EXAMPLES])
def test_every_example_command_prints_what_the_document_says(
    command: str, printed: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(shlex.split(command))
    assert exit_info.value.code == 0
    assert json.loads(capsys.readouterr().out) == json.loads(printed)


def test_the_stranger_reproduces_the_seeded_examples() -> None:
    printed = {json.loads(p)["game"]: json.loads(p) for _, p in EXAMPLES}
    floats = {game: stranger_floats(SERVER_SEED, CLIENT_SEED, printed[game]["nonce"], 16)
              for game in ("dice", "limbo", "plinko", "mines")}  # fmt: skip
    assert two_places(stranger_dice(floats["dice"])) == printed["dice"]["roll"]
    assert two_places(stranger_limbo(floats["limbo"])) == printed["limbo"]["result"]
    assert stranger_plinko(floats["plinko"]) == printed["plinko"]["path"]
    assert stranger_mines(floats["mines"][:3], 3) == printed["mines"]["mines"]
    crash = stranger_crash(printed["crash"]["game_hash"], SALT)
    assert two_places(crash) == printed["crash"]["crash"]


def test_the_stranger_reproduces_the_documents_intermediate_values() -> None:
    assert hashlib.sha256(SERVER_SEED.encode()).hexdigest() in DOC
    for nonce in (0, 4, 2, 5):
        assert stranger_round(SERVER_SEED, CLIENT_SEED, nonce, 0).hex() in DOC
    assert stranger_round(SERVER_SEED, CLIENT_SEED, 2, 1).hex() in DOC
    assert "4108934091 / 2^32" in DOC and stranger_floats(SERVER_SEED, CLIENT_SEED, 0, 1) == [
        Fraction(4108934091, 2**32)
    ]
    chain = generate_chain(10, CHAIN_SECRET)
    for text in (chain.terminating_hash, chain.game_hash(1), chain.game_hash(2)):
        assert text in DOC
    assert chain_round(chain.game_hash(2), chain.terminating_hash) == 2
    h = hmac.new(SALT.encode(), chain.game_hash(2).encode(), hashlib.sha256).hexdigest()
    assert h in DOC and str(int(h[:13], 16)) in DOC


@pytest.mark.parametrize("nonce", range(0, 300, 7))
def test_the_stranger_agrees_with_the_verifier_on_any_round(nonce: int) -> None:
    floats = stranger_floats(SERVER_SEED, CLIENT_SEED, nonce, 24)
    target = Fraction(nonce % 97 + 4, 2)  # 2.00 .. 50.00, in halves
    dice = _verify("dice", {"target": two_places(target), "direction": "over"}, nonce)
    roll = stranger_dice(floats)
    n = 10000 - int(target * 100)
    assert dice["roll"] == two_places(roll)
    assert Fraction(str(dice["multiplier"])) == (
        Fraction(99, 100) * 10001 / n if roll > target else 0
    )
    limbo = _verify("limbo", {"target": "1.98"}, nonce)
    assert limbo["result"] == two_places(stranger_limbo(floats))
    rows, risk = 8 + nonce % 9, list(Risk)[nonce % 3]
    plinko = _verify("plinko", {"rows": str(rows), "risk": risk}, nonce)
    bucket = sum(stranger_plinko(floats[:rows]))
    assert plinko["bucket"] == bucket
    assert Fraction(str(plinko["multiplier"])) == doc_plinko_tables()[rows, risk][bucket]
    mines = 1 + nonce % 24
    board = _verify("mines", {"mines": str(mines), "picks": "12"}, nonce)
    stranger_board = stranger_mines(floats, mines)
    assert board["mines"] == stranger_board
    paid = Fraction(99, 100) * comb(25, 1) / comb(25 - mines, 1) if 12 not in stranger_board else 0
    assert Fraction(str(board["multiplier"])) == paid


def test_the_stranger_agrees_with_the_verifier_on_crash_rounds() -> None:
    chain = generate_chain(200, CHAIN_SECRET)
    for round_number in range(1, 201):
        game_hash = chain.game_hash(round_number)
        printed = verify("crash", {}, game_hash=game_hash, salt=SALT)
        assert printed["crash"] == two_places(stranger_crash(game_hash, SALT))


def test_the_plinko_tables_in_the_document_are_the_ones_played() -> None:
    tables = doc_plinko_tables()
    assert len(tables) == 27
    for (rows, risk), table in tables.items():
        assert [Fraction(m, 100) for m in Plinko().tables[rows, Risk(risk)]] == table
        assert sum(comb(rows, k) * m for k, m in enumerate(table)) == Fraction(99, 100) * 2**rows


def test_the_documents_double_precision_warning_is_true() -> None:
    r = 174897072907592
    assert f"{r:013x}" == "09f1165e72548" and "09f1165e72548" in DOC
    assert Crash().crash_hundredths(r) == 102
    assert math.floor(99 / (1 - r / 2**52)) == 103
