"""Long CLI work shows a progress bar on a terminal and, without one, stays quiet apart from
a start and an end log line: `lti-badger verify` of many files, through Click's runner."""

from __future__ import annotations

import io
import json

from click.testing import CliRunner

from lti_badger import cli_progress
from lti_badger.cli import main
from tests.integration.credentials.test_cli import _issue, instance  # noqa: F401


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def _files(instance, tmp_path):  # noqa: F811
    paths = []
    for n in range(3):
        credential, _png, _svg = _issue(instance)
        path = tmp_path / f"c{n}.json"
        path.write_text(credential.document)
        paths.append(path)
    tampered = json.loads(paths[0].read_text())
    tampered["credentialSubject"]["achievement"]["name"] = "Something else"
    (tmp_path / "tampered.json").write_text(json.dumps(tampered))
    (tmp_path / "junk.json").write_text("{not json")
    return paths + [tmp_path / "tampered.json", tmp_path / "junk.json"]


def test_many_files_without_a_terminal_one_line_each_and_two_log_lines(instance, tmp_path):  # noqa: F811
    files = _files(instance, tmp_path)
    result = CliRunner().invoke(main, ["verify", *map(str, files)])
    assert result.exit_code == 1  # not all valid
    lines = result.stdout.splitlines()
    assert lines[:3] == [f"{f}: VERIFIED" for f in files[:3]]
    assert lines[3].startswith(f"{files[3]}: ") and "VERIFIED" not in lines[3]
    assert lines[4].startswith(f"{files[4]}: error: ")
    logged = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    assert [(e["msg"], e.get("total"), e.get("done")) for e in logged] == [
        ("verifying: started", 5, None), ("verifying: done", 5, 5)]
    assert "\r" not in result.output and "3 of 5 valid" in result.stderr

    as_json = CliRunner().invoke(main, ["verify", "--json", *map(str, files[:2])])
    assert as_json.exit_code == 0
    assert [r["valid"] for r in json.loads(as_json.stdout)] == [True, True]


def test_many_files_on_a_terminal_draw_a_bar_and_log_nothing(instance, tmp_path, monkeypatch):  # noqa: F811
    files = _files(instance, tmp_path)[:3]
    terminal = Tty()
    monkeypatch.setattr(cli_progress, "terminal_stream", lambda: terminal)
    result = CliRunner().invoke(main, ["verify", *map(str, files)])
    assert result.exit_code == 0, result.output
    drawn = terminal.getvalue()
    assert "verifying" in drawn and "3/3" in drawn and "100%" in drawn
    assert "started" not in result.stderr and result.stdout.count("VERIFIED") == 3
