import pytest

from lti_badger.awards.context import bind_context
from lti_badger.keys import KIND_ISSUER, KIND_LTI, FileKeyStore
from lti_badger.settings import load_settings


@pytest.fixture
def award_settings(tmp_path):
    return load_settings({"instance_path": str(tmp_path / "instance"), "base_url": "https://badges.test",
                          "in_process_worker": False, "mail_backend": "file"})


@pytest.fixture
def adb(db, award_settings):
    """The rolled-back test session, able to issue (settings + keys bound like create_app does)."""
    keys = FileKeyStore(award_settings.instance_dir / "keys")
    keys.ensure(KIND_ISSUER)
    keys.ensure(KIND_LTI)
    bind_context(db, award_settings, keys)
    return db
