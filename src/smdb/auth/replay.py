"""A bounded memory of signed messages already accepted: the one way to tell a replayed signed message from a new
one when the message itself is genuine. Used by the simulator for requests (as DST's WCF keeps a replay cache) and
by the client for answers (a genuine signed answer is accepted once)."""

from __future__ import annotations

import threading
from datetime import datetime


class ReplayCache:
    """Signature values of accepted messages, each kept until its Timestamp can no longer pass the window check.

    Within the timestamp window a captured message would otherwise verify again. Bounded by the window, and by
    ``max_entries`` as a last resort (oldest first).
    """

    def __init__(self, max_entries: int = 200_000) -> None:
        self._seen: dict[str, datetime] = {}
        self._lock = threading.Lock()
        self.max_entries = max_entries

    def check_and_add(self, key: str, until: datetime, now: datetime) -> bool:
        """True when ``key`` is new (and is now remembered until ``until``); False for a replay."""
        key = "".join(key.split())  # base64 may be wrapped differently in a copy
        with self._lock:
            if len(self._seen) >= self.max_entries or len(self._seen) % 1024 == 0:
                for k in [k for k, t in self._seen.items() if t < now]:
                    del self._seen[k]
                while len(self._seen) >= self.max_entries:
                    del self._seen[next(iter(self._seen))]
            if key in self._seen:
                return False
            self._seen[key] = until
            return True
