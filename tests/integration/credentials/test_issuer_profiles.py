"""The issuer profile per registration against a real database: the configuration is the default of
every field, a saved profile overlays only what it sets, the DID never changes, and a refused
save writes nothing."""

from __future__ import annotations

import pytest

from lti_badger.credentials import IssuerProfile
from lti_badger.credentials.issuer_profiles import (
    ProfileChanges, find_profile_record, issuer_profile_for, issuer_profile_for_course, save_issuer_profile,
)
from lti_badger.errors import BadInput
from lti_badger.settings import Settings
from tests.factories_credentials import NOW
from tests.factories_web import make_course, make_platform

SETTINGS = Settings(base_url="https://badges.example.edu", issuer_name="Badge Tool", issuer_url="https://tool.example/",
                    issuer_email="tool@tool.example", issuer_image="https://tool.example/logo.png")
LMS = "https://lms.example"


def test_without_a_profile_the_configuration_is_used(db):
    assert issuer_profile_for(db, SETTINGS, make_platform(db, LMS)) == IssuerProfile.from_settings(SETTINGS)


def test_a_profile_overlays_only_what_it_sets(db):
    platform = make_platform(db, LMS)
    record = save_issuer_profile(db, platform.id, ProfileChanges(name="  Universidad   de Ejemplo "), NOW)
    profile = issuer_profile_for(db, SETTINGS, platform)
    default = IssuerProfile.from_settings(SETTINGS)
    assert profile.name == "Universidad de Ejemplo" and profile.did == default.did == "did:web:badges.example.edu"
    assert (profile.url, profile.email, profile.image, profile.description) == (
        "https://tool.example/", "tool@tool.example", "https://tool.example/logo.png", "")
    assert issuer_profile_for(db, SETTINGS, make_platform(db, "https://other-lms.example")) == default

    save_issuer_profile(db, platform.id, ProfileChanges(name="U", url="https://uni.example/", email="b@uni.example",
                                                        description="About us", image=_svg()), NOW)
    profile = issuer_profile_for(db, SETTINGS, platform)
    assert (profile.url, profile.email, profile.description) == ("https://uni.example/", "b@uni.example", "About us")
    assert profile.image == f"https://badges.example.edu/issuers/{record.public_id}/image"
    assert profile.facts().description == "About us"

    world = make_course(db, platform, "C", "Course C", learners=0)
    assert issuer_profile_for_course(db, SETTINGS, world.course.id) == profile


def test_registrations_of_one_issuer_have_their_own_profiles(db):
    canvas = "https://canvas.instructure.com"
    first, second = make_platform(db, canvas, "10000000000001"), make_platform(db, canvas, "10000000000002")
    save_issuer_profile(db, first.id, ProfileChanges(name="First College"), NOW)
    assert issuer_profile_for(db, SETTINGS, first).name == "First College"
    assert issuer_profile_for(db, SETTINGS, second) == IssuerProfile.from_settings(SETTINGS)
    save_issuer_profile(db, second.id, ProfileChanges(name="Second University"), NOW)
    assert issuer_profile_for(db, SETTINGS, first).name == "First College"
    assert find_profile_record(db, second.id).name == "Second University"


def test_a_refused_save_writes_nothing(db):
    platform = make_platform(db, LMS)
    for changes in (ProfileChanges(name=""), ProfileChanges(name="U", url="mailto:x@y.example"),
                    ProfileChanges(name="U", email="x y@z.example"), ProfileChanges(name="U", description="x" * 2001),
                    ProfileChanges(name="U", image=b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>")):
        with pytest.raises(BadInput):
            save_issuer_profile(db, platform.id, changes, NOW)
    assert find_profile_record(db, platform.id) is None


def _svg() -> bytes:
    return b'<svg xmlns="http://www.w3.org/2000/svg" width="32" height="32"><rect width="32" height="32"/></svg>'
