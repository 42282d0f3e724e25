"""One database session per request. The edge owns the transaction: a response below 400
commits, anything else rolls back, so a rejected request changes nothing (invariant 7)."""

from __future__ import annotations

from flask import Flask, Response, current_app, g
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session

from ..db import database_outage
from ..errors import BadgerError


def db() -> Session:
    if "db" not in g:
        g.db = current_app.extensions["lti_badger"].sessions()
    return g.db


def rollback_refusal(err: Exception) -> None:
    """A form that shows a refusal (4xx) on its own page again first undoes what the attempt
    wrote, so the page reads the database as it was. A server fault (5xx) is not an answer to
    the form: it is raised on to the error handlers."""
    if isinstance(err, BadgerError) and err.status_code >= 500:
        raise err
    db().rollback()


def init_db_session(app: Flask) -> None:
    @app.after_request
    def _commit(response: Response) -> Response:
        session: Session | None = g.pop("db", None)
        if session is not None:
            try:
                if response.status_code < 400:
                    session.commit()
                else:
                    session.rollback()
                if response.status_code != 503:  # the database answered this request
                    database_outage.recovered()
            except (OperationalError, InterfaceError) as err:  # it went away before the commit: 503
                return app.make_response(app.handle_user_exception(err))
            finally:
                session.close()
        return response

    @app.teardown_request
    def _close(_exc: BaseException | None) -> None:
        session: Session | None = g.pop("db", None)
        if session is not None:
            session.rollback()
            session.close()
