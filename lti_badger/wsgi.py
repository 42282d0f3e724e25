"""WSGI entry point for gunicorn: `gunicorn lti_badger.wsgi:app`."""
from .app import create_app

app = create_app()
