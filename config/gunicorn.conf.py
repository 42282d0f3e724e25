"""gunicorn settings for `lti-badger serve --workers N` (override with GUNICORN_CMD_ARGS)."""
wsgi_app = "lti_badger.wsgi:app"
worker_class = "gthread"
threads = 4
timeout = 30
accesslog = "-"
