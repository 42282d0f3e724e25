"""Refresh the README's screenshots: runs the demo course in the browser test harness (tool,
LMS simulator, Debian's Chromium) and pictures the main pages at 1280 px and 900 px into this
folder. Each page must also pass axe and have no sideways scrolling, or nothing is written for it.

    .venv/bin/python docs/screenshots/make.py
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]

if __name__ == "__main__":
    env = {**os.environ, "LTI_BADGER_SCREENSHOTS": str(HERE)}
    sys.exit(subprocess.call([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                              "tests/browser/test_screenshots.py"], cwd=ROOT, env=env))
