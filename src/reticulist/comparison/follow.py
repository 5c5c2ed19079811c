"""Stored comparison figures that follow the data: a server process recomputes, every few seconds, the
figures of opted-in partnerships whose data changed (``figures.due``), so a comparison shows them within a
minute of the change without recomputing anything itself.

A thread of the web server, one partnership at a time in its own transaction, so requests wait at most one
partnership's store for SQLite's write lock. With several server processes each follows; two that pick
the same partnership store it one after the other (its row is locked), which costs work, not correctness.
The nightly `reticulist comparison refresh` remains for servers that turn this off.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy.orm import Session, sessionmaker

from reticulist.comparison import figures

log = logging.getLogger(__name__)


class FiguresFollower:
    """``start()`` a daemon thread that every ``seconds`` refreshes the figures that are due; ``stop()``."""

    def __init__(self, sessions: sessionmaker[Session], seconds: float) -> None:
        self.sessions = sessions
        self.seconds = seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="comparison-figures", daemon=True)
        self._thread.start()

    def stop(self, wait: float = 30.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=wait)

    def once(self) -> int:
        """Refresh what is due now; the number of partnerships refreshed."""
        with self.sessions() as session:
            return figures.refresh(session).partnerships

    def _run(self) -> None:
        while not self._stop.wait(self.seconds):
            try:
                self.once()
            except Exception:  # a failure is logged and tried again next time; the server goes on
                log.exception("recomputing comparison figures failed; trying again in %s s", self.seconds)
