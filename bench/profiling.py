"""cProfile across threads, for finding hot spots on a benchmark's timed path.

The Temporal worker runs workflow activations on executor threads, and cProfile only sees the
thread that enabled it. `install()` (before the workers start their threads) gives every new
thread a light profile function that, once the timed phase has begun, swaps in a cProfile
profiler of that thread's own; the main thread's profiler covers the event loop (HTTP, client,
activities). The profilers are merged into one pstats file at the end of the timed phase.
"""

from __future__ import annotations

import contextlib
import cProfile
import pstats
import threading
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any


class ThreadProfiler:
    """Does nothing when `path` is None, so benchmarks can call it unconditionally."""

    def __init__(self, path: Path | None) -> None:
        self._path = path
        self._timing = False
        self._lock = threading.Lock()
        self._profiles: list[cProfile.Profile] = []

    def install(self) -> None:
        if self._path is not None:
            threading.setprofile(self._adopt)

    def _adopt(self, frame: FrameType, event: str, arg: Any) -> None:
        if not self._timing:
            return
        profile = cProfile.Profile()
        with self._lock:
            self._profiles.append(profile)
        profile.enable()

    @contextlib.contextmanager
    def timed(self) -> Iterator[None]:
        if self._path is None:
            yield
            return
        main = cProfile.Profile()
        self._timing = True
        main.enable()
        try:
            yield
        finally:
            main.disable()
            self._timing = False
            threading.setprofile(None)
            stats = pstats.Stats(main)
            with self._lock:
                for profile in self._profiles:
                    stats.add(profile)
            self._path.parent.mkdir(parents=True, exist_ok=True)
            stats.dump_stats(str(self._path))
