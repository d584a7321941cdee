"""A unix-socket proxy in front of PostgreSQL that a test can cut and restore (database outage on demand)."""

from __future__ import annotations

import contextlib
import os
import select
import socket
import threading
from pathlib import Path


class SocketProxy:
    """Listen on ``<folder>/.s.PGSQL.<port>`` and forward every connection to the real server socket.

    :meth:`cut` closes the listener and every open connection (clients see the server vanish);
    :meth:`restore` listens again.
    """

    def __init__(self, target: Path, folder: Path, port: int) -> None:
        self.target = str(target)
        self.path = str(folder / f".s.PGSQL.{port}")
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()

    def restore(self) -> None:
        """Start (or restart) listening."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(self.path)
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        """Stop listening and drop every open connection."""
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
        with self._lock:
            for sock in list(self._open):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self._open.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            upstream.connect(self.target)
            with self._lock:
                self._open.update({client, upstream})
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, a: socket.socket, b: socket.socket) -> None:
        try:
            while True:
                ready, _, _ = select.select([a, b], [], [], 1.0)
                for sock in ready:
                    chunk = sock.recv(65536)
                    if not chunk:
                        return
                    (b if sock is a else a).sendall(chunk)
        except (OSError, ValueError):
            return
        finally:
            for sock in (a, b):
                with contextlib.suppress(OSError):
                    sock.close()
            with self._lock:
                self._open.difference_update({a, b})
