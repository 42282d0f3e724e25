"""The Spanish catalogue is complete and the compiled .mo that ships matches the .po."""

from __future__ import annotations

import gettext
from pathlib import Path

from babel.messages.pofile import read_po

import lti_badger

TRANSLATIONS = Path(lti_badger.__file__).parent / "translations"


def test_spanish_po_has_every_message_translated_and_the_mo_matches():
    with (TRANSLATIONS / "es" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = read_po(fh)
    messages = [m for m in catalog if m.id]
    assert len(messages) > 300
    untranslated = [m.id for m in messages if not m.string or (isinstance(m.string, tuple) and not all(m.string))]
    assert untranslated == []
    compiled = gettext.GNUTranslations((TRANSLATIONS / "es" / "LC_MESSAGES" / "messages.mo").open("rb"))
    for m in messages:
        if isinstance(m.id, tuple):  # a plural: one form for 1, the other for 2 in Spanish
            assert [compiled.ngettext(*m.id, n) for n in (1, 2)] == list(m.string), m.id
        else:
            assert compiled.gettext(m.id) == m.string, m.id


def test_template_pot_and_po_agree():
    with (TRANSLATIONS / "messages.pot").open("rb") as fh:
        template = {m.id for m in read_po(fh) if m.id}
    with (TRANSLATIONS / "es" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        spanish = {m.id for m in read_po(fh) if m.id}
    assert template == spanish

