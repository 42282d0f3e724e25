"""Settings: `config/default.toml`, then a TOML file named by LTI_BADGER_CONFIG, then
LTI_BADGER_* environment variables, then explicit overrides (tests). Later wins."""

from __future__ import annotations

import os
import secrets
import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, Mapping

DEFAULTS_FILE = Path(__file__).resolve().parent.parent / "config" / "default.toml"
ENV_PREFIX = "LTI_BADGER_"


LOG_FORMATS = ("auto", "json", "text")
MAIL_BACKENDS = ("off", "smtp", "file")


@dataclass(frozen=True)
class Settings:
    base_url: str = "http://127.0.0.1:5000"
    database_url: str = ""
    redis_url: str = ""
    secret_key: str = ""
    instance_path: str = ""
    in_process_worker: bool = True
    issuer_name: str = "lti_badger"
    issuer_url: str = ""
    issuer_email: str = ""
    issuer_image: str = ""
    mail_backend: str = "off"  # "smtp" sends; "file" writes .eml files (development); "off": no e-mail
    mail_from: str = "badges@localhost"
    smtp_host: str = "localhost"
    smtp_port: int = 25
    max_content_length: int = 5 * 1024 * 1024
    registration_allowed_hosts: str = ""  # issuer hosts that may use /lti/register without an invite
    outbound_allow: str = ""  # hosts or networks the outbound client may reach over http / privately
    log_format: str = "auto"  # "json", "text", or "auto": text when stderr is a terminal
    metrics_allow: str = "127.0.0.0/8, ::1"  # networks that may read /metrics ("" : none without the token)
    metrics_token: str = ""  # a bearer token that opens /metrics from anywhere ("" : no token)
    proxy_hops: int = 0  # reverse proxies in front that set X-Forwarded-For/-Proto (trusted)

    @property
    def instance_dir(self) -> Path:
        return Path(self.instance_path or "instance").resolve()

    @property
    def sqlalchemy_url(self) -> str:
        return self.database_url or f"sqlite:///{self.instance_dir / 'lti_badger.sqlite'}"

    @property
    def public_base_url(self) -> str:
        return self.base_url.rstrip("/")

    def secret(self) -> str:
        """The session key: configured, or the one `init` stored in the instance folder."""
        if self.secret_key:
            return self.secret_key
        path = self.instance_dir / "secret_key"
        if not path.exists():
            self.instance_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()


def _coerce(name: str, raw: Any) -> Any:
    kind = {f.name: f.type for f in fields(Settings)}[name]
    if not isinstance(raw, str):
        return raw
    if kind == "bool":
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if kind == "int":
        return int(raw)
    return raw


def load_settings(overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    environ = os.environ if environ is None else environ
    known = {f.name for f in fields(Settings)}
    values: dict[str, Any] = {}
    if DEFAULTS_FILE.exists():
        values.update(tomllib.loads(DEFAULTS_FILE.read_text()))
    extra = environ.get(ENV_PREFIX + "CONFIG")
    if extra:
        values.update(tomllib.loads(Path(extra).read_text()))
    for name in known:
        if ENV_PREFIX + name.upper() in environ:
            values[name] = environ[ENV_PREFIX + name.upper()]
    values.update(overrides or {})
    unknown = set(values) - known
    if "dynamic_registration" in unknown:
        raise ValueError("the setting dynamic_registration is gone: dynamic registration is closed unless opened "
                         "with `lti-badger platform invite` or registration_allowed_hosts")
    if unknown:
        raise ValueError(f"unknown setting(s): {', '.join(sorted(unknown))}")
    if values.get("log_format", "auto") not in LOG_FORMATS:
        raise ValueError(f"log_format must be one of {', '.join(LOG_FORMATS)}, not {values['log_format']!r}")
    if values.get("mail_backend", "off") not in MAIL_BACKENDS:
        raise ValueError(f"mail_backend must be one of {', '.join(MAIL_BACKENDS)}, not {values['mail_backend']!r}")
    return replace(Settings(), **{k: _coerce(k, v) for k, v in values.items()})
