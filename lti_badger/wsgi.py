"""WSGI entry point for gunicorn: `gunicorn lti_badger.wsgi:app`. Each worker warms up while
it loads this module, before it accepts a connection."""
from .app import create_app, warm_up

app = create_app()
warm_up(app)
