"""`croupier verify`: one JSON object for good input, one error line and status 2 for bad."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from croupier.workers import cli

CROUPIER = Path(sys.executable).with_name("croupier")
SERVER_SEED = "6d239cd1c7a6ad85efa5a5a57be0a4158a34d392e48feec92a3ed0d564365366"
GOOD = [
    "verify", "dice", "--server-seed", SERVER_SEED, "--client-seed", "lucky-player-42",
    "--nonce", "0", "--param", "target=50.50", "--param", "direction=over",
]  # fmt: skip


def _run_main(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    captured = capsys.readouterr()
    return int(exit_info.value.code or 0), captured.out, captured.err


def test_the_installed_command_prints_one_json_object_for_a_good_round() -> None:
    done = subprocess.run([CROUPIER, *GOOD], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("\n") == 1
    assert json.loads(done.stdout) == {
        "game": "dice",
        "server_seed_hash": "46c8833c998836cb82f099064ea49ca037450baaf9418272d8440c517b6396ef",
        "client_seed": "lucky-player-42",
        "nonce": 0,
        "roll": "95.67",
        "multiplier": "10001/5000",
        "multiplier_decimal": "2.00020000",
    }


def test_the_installed_command_fails_bad_input_with_one_line_and_status_2() -> None:
    done = subprocess.run(
        [CROUPIER, "verify", "dice", "--server-seed", "nothex", "--client-seed", "c",
         "--nonce", "0"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == "croupier: error: server seed must be 64 lowercase hex characters\n"


def test_a_round_without_a_bet_choice_prints_the_outcome_only(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["verify", "plinko", *GOOD[2:8], "--param", "rows=16"]
    status, out, _ = _run_main(argv, capsys)
    assert status == 0
    printed = json.loads(out)
    assert len(printed["path"]) == 16 and "multiplier" not in printed


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["verify", "roulette", *GOOD[2:8]], "unknown game 'roulette'"),
        (["verify", "dice", *GOOD[4:8]], "dice needs --server-seed"),
        (["verify", "dice", *GOOD[2:6], "--nonce", "-1"], "nonce must be an integer from 0"),
        (["verify", "dice", *GOOD[2:6], "--nonce", "seven"], "Invalid value for '--nonce'"),
        (["verify", "dice", *GOOD[2:8], "--param", "target"], "--param must look like key=value"),
        (
            ["verify", "dice", *GOOD[2:8], "--param", "target=100", "--param", "direction=over"],
            "wins on 0 of 10001 rolls",
        ),
        (["verify", "plinko", *GOOD[2:8], "--param", "rows=17"], "rows must be from 8 to 16"),
        (["verify", "mines", *GOOD[2:8], "--param", "mines=25"], "mines must be from 1 to 24"),
        (["verify", "crash", "--game-hash", SERVER_SEED], "crash needs --game-hash and --salt"),
        (
            ["verify", "crash", "--game-hash", SERVER_SEED, "--salt", "s", "--nonce", "1"],
            "--nonce does not apply to crash",
        ),
        (
            ["verify", "crash", "--game-hash", SERVER_SEED, "--salt", "s",
             "--terminating-hash", "0" * 64],
            "does not lead to terminating hash",
        ),
    ],
)  # fmt: skip
def test_bad_input_is_one_error_line_with_status_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = _run_main(argv, capsys)
    assert status == 2
    assert out == ""
    assert err.startswith("croupier: error: ") and err.count("\n") == 1
    assert message in err
