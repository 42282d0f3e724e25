"""`create_app` starts the in-process delivery worker when configured (the embedded default),
and test settings (`in_process_worker=False`) keep it off."""

from lti_badger.app import create_app
from lti_badger.deliveries.runner import EXTENSION_KEY, stop_in_process_worker


def test_in_process_worker_follows_the_setting(app_settings):
    off = create_app(app_settings)
    assert EXTENSION_KEY not in off.extensions
    on = create_app({**app_settings, "in_process_worker": True})
    try:
        [worker] = on.extensions[EXTENSION_KEY]
        assert not worker.stop_event.is_set()
    finally:
        stop_in_process_worker(on)
    assert worker.stop_event.is_set() and EXTENSION_KEY not in on.extensions
    for app in (off, on):
        app.extensions["lti_badger"].engine.dispose()
