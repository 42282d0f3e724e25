from tests.functional.deliveries.conftest import keys, sessions, worker_settings  # noqa: F401
