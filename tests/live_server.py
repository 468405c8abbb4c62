"""A real uvicorn server in a background thread (tests/conftest.py and tests that restart a server).

Its own module, not conftest: ``from conftest import`` finds whichever conftest.py pytest put first on
sys.path (tests/api/ has one too).
"""

from __future__ import annotations


class ApiServer:
    """A real uvicorn server in a background thread, on a free 127.0.0.1 port."""

    def __init__(self, app):
        import socket

        import uvicorn

        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}"
        self.app = app
        config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="on", timeout_graceful_shutdown=5)
        self.server = uvicorn.Server(config)

    def start(self) -> "ApiServer":
        import threading
        import time

        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test API server did not start")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)
        self.socket.close()
