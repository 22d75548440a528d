"""A job scheduler: jobs run at their due time, one after the other, on one named thread.

Subscription renewals use it, so any number of subscriptions cost one thread, which sleeps
on a condition until the next job is due (never a busy loop).
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from typing import Callable, List, Tuple

__all__ = ["Scheduler"]

log = logging.getLogger("upnpy")


class Scheduler:
    """Runs jobs at their due time, one after the other, on one named thread."""

    def __init__(self, name: str = "upnpy-events-renew") -> None:
        self._cond = threading.Condition()
        self._jobs: List[Tuple[float, int, Callable[[], None]]] = []
        self._order = itertools.count()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def add(self, delay: float, job: Callable[[], None]) -> None:
        with self._cond:
            heapq.heappush(self._jobs, (time.monotonic() + delay, next(self._order), job))
            self._cond.notify()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._jobs.clear()
            self._cond.notify()
        if self._thread is not threading.current_thread():
            self._thread.join()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopped:
                    wait = self._jobs[0][0] - time.monotonic() if self._jobs else None
                    if wait is not None and wait <= 0:
                        break
                    self._cond.wait(wait)
                if self._stopped:
                    return
                job = heapq.heappop(self._jobs)[2]
            try:
                job()
            except Exception:
                log.exception("subscription maintenance failed")
