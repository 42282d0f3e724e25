"""What issuing needs beyond the database (settings for the issuer profile and base URL, the
key store), carried on the session's `info` so that callbacks with a fixed signature
(`criteria.reevaluate(..., on_met=award_from_rule)`) can issue credentials. The edge binds
it once on its sessionmaker (`create_app`, the CLI, the worker)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from ..deliveries.mail import mail_enabled
from ..errors import BadgerError
from ..keys import KeyStore
from ..settings import Settings

INFO_KEY = "lti_badger.awards"


@dataclass(frozen=True)
class AwardContext:
    settings: Settings
    keys: KeyStore

    @property
    def base_url(self) -> str:
        return self.settings.public_base_url

    @property
    def mail(self) -> bool:
        """Whether badge changes are e-mailed at all (a mail backend is configured)."""
        return mail_enabled(self.settings)


def bind_context(target: Any, settings: Settings, keys: KeyStore) -> None:
    """Attach the context to a `sessionmaker` (every new session gets it) or one `Session`."""
    ctx = AwardContext(settings, keys)
    if isinstance(target, Session):
        target.info[INFO_KEY] = ctx
    else:
        info = dict(target.kw.get("info") or {})
        info[INFO_KEY] = ctx
        target.configure(info=info)


def get_context(session: Session) -> AwardContext:
    ctx = session.info.get(INFO_KEY)
    if ctx is None:
        raise BadgerError("this database session has no award context (bind_context was not called)")
    return ctx
