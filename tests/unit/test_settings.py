from pathlib import Path

import pytest

from lti_badger.settings import load_settings


def test_defaults_come_from_config_folder():
    s = load_settings(environ={})
    assert s.base_url == "http://127.0.0.1:5000"
    assert s.in_process_worker is True
    assert s.sqlalchemy_url.endswith("instance/lti_badger.sqlite")


def test_environment_overrides_and_types(tmp_path: Path):
    extra = tmp_path / "site.toml"
    extra.write_text('issuer_name = "Example U"\nsmtp_port = 2525\n')
    s = load_settings(environ={
        "LTI_BADGER_CONFIG": str(extra),
        "LTI_BADGER_BASE_URL": "https://badges.example.edu/",
        "LTI_BADGER_IN_PROCESS_WORKER": "false",
        "LTI_BADGER_SMTP_PORT": "587",
    })
    assert s.public_base_url == "https://badges.example.edu"
    assert s.in_process_worker is False
    assert s.smtp_port == 587  # environment beats the file
    assert s.issuer_name == "Example U"


def test_unknown_setting_is_refused():
    with pytest.raises(ValueError, match="unknown setting"):
        load_settings({"databse_url": "x"}, environ={})
