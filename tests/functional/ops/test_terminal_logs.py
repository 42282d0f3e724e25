"""On a terminal the demo is readable: its own lines, no JSON log flood (the tool's log keeps
to warnings there); off a terminal the same log is JSON, one object per line."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys

import pytest


def _run_demo(tmp_path, *, terminal: bool) -> tuple[int, str]:
    env = {**os.environ, "LTI_BADGER_INSTANCE_PATH": str(tmp_path / "instance")}
    args = [sys.executable, "-m", "lti_badger", "demo", "--headless", "--out", str(tmp_path / "out"), "--port", "0"]
    if not terminal:
        done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
        return done.returncode, done.stdout + done.stderr
    leader, follower = pty.openpty()
    process = subprocess.Popen(args, env=env, stdin=subprocess.DEVNULL, stdout=follower, stderr=follower)
    os.close(follower)
    chunks = []
    while True:
        ready, _, _ = select.select([leader], [], [], 300)
        if not ready:
            process.kill()
            pytest.fail("the demo did not finish")
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closed: the demo exited
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    return process.wait(30), b"".join(chunks).decode(errors="replace")


@pytest.mark.slow
def test_the_demo_on_a_terminal_prints_its_own_lines_and_no_json(tmp_path):
    code, output = _run_demo(tmp_path, terminal=True)
    assert code == 0, output[-2000:]
    lines = [line for line in output.splitlines() if line.strip()]
    assert not [line for line in lines if line.lstrip().startswith("{")], "JSON log lines on a terminal"
    assert "demo scenario passed" in output and len(lines) < 10, lines


@pytest.mark.slow
def test_the_demo_off_a_terminal_logs_json(tmp_path):
    code, output = _run_demo(tmp_path, terminal=False)
    assert code == 0, output[-2000:]
    logged = [line for line in output.splitlines() if line.startswith("{")]
    assert len(logged) > 10 and all('"request_id": ' in line for line in logged)
