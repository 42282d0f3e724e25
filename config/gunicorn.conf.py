"""gunicorn settings for `lti-badger serve --workers N` (override with GUNICORN_CMD_ARGS).

Prometheus metrics from several processes: each process writes its counts under
PROMETHEUS_MULTIPROC_DIR and /metrics adds them up. Set it to a folder of your own (systemd:
RuntimeDirectory), or a fresh temporary folder is made; it is emptied when gunicorn starts."""
import os
import tempfile
from pathlib import Path

wsgi_app = "lti_badger.wsgi:app"
worker_class = "gthread"
threads = 4
timeout = 30
accesslog = "-"
# The request id the app accepted or made up (X-Request-ID) on each access line.
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms rid=%({x-request-id}o)s'

os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="lti-badger-metrics-"))


def on_starting(server):
    """Counts of a previous run would be added to this one's."""
    folder = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.db"):
        stale.unlink()


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
