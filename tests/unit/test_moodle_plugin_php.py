"""The Moodle plugin in integrations/moodle: its PHP parses (`php -l`, when PHP is installed;
its behaviour is tested with Moodle's PHPUnit, see its README), and it sends exactly the event
names the tool's ingest endpoint reads."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from lti_badger.progress import moodle_plugin

PLUGIN = Path(__file__).resolve().parents[2] / "integrations" / "moodle" / "local_ltibadger"


def test_every_php_file_parses():
    php = shutil.which("php")
    if php is None:
        pytest.skip("no php on this machine")
    files = sorted(PLUGIN.rglob("*.php"))
    assert len(files) >= 8
    for path in files:
        result = subprocess.run([php, "-l", str(path)], capture_output=True, text=True, timeout=30)
        assert result.returncode == 0, result.stdout + result.stderr


def test_observed_events_are_the_ones_the_tool_reads():
    observed = (PLUGIN / "db" / "events.php").read_text()
    sent = (PLUGIN / "classes" / "observer.php").read_text()
    for name in (moodle_plugin.EVENT_GRADED, moodle_plugin.EVENT_MODULE_COMPLETION, moodle_plugin.EVENT_COURSE_COMPLETED):
        assert f"'eventname' => '{name}'" in observed
        assert "'event' => '" + name.replace("\\", "\\\\") + "'" in sent


def test_the_plugin_is_gpl_with_its_own_licence_file():
    assert "GNU GENERAL PUBLIC LICENSE" in (PLUGIN / "LICENSE").read_text()[:200]
    assert "Version 3" in (PLUGIN / "LICENSE").read_text()[:300]
    for path in PLUGIN.rglob("*.php"):
        assert "GNU General Public License" in path.read_text()[:1000], path
