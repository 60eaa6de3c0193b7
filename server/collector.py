"""The garbage collector of a server process that holds thousands of live sockets open.

CPython's collector stops the whole process while it runs, and a full
(generation 2) collection traverses every tracked object. With thousands of
open subscriptions that was a pause of 350–430 ms: every subscriber late
together, `/health` stalled (issue 25). Three measures, all in `tune()`,
called by the app's lifespan once start-up is done:

- `gc.freeze()`: everything alive after start-up (modules, the schema, the
  compiled operations, the ORM's metadata, ~90 % of the tracked objects of
  an idle server) moves to the permanent generation, which no collection
  traverses again;
- thresholds `THRESHOLDS` instead of (700, 10, 10), chosen with the callback
  below and `bench.fanout` (bench/results-live.md): a request or a live event
  allocates thousands of short-lived tracked objects, so the youngest
  generation is collected after 2,000 allocations instead of 700; a larger
  first threshold (20,000, 20) made each generation-1 collection large
  (384–612 ms measured while 2,000 sockets opened), so generation 1 stays at
  10; full collections wait for 100 generation-1 collections (and CPython's
  own rule: a quarter more long-lived objects than at the last one);
- a `gc.callbacks` hook times every collection: `sitedesk_gc_pause_seconds`
  (by generation) on `/metrics`, the longest pause so far in `LONGEST`, and a
  warning in the log for a pause over `WARN_SECONDS`.

Objects created before `tune()` that die later are still freed by reference
counting; only their reference cycles would stay (the start-up state has none
that are dropped).
"""

from __future__ import annotations

import gc
import logging
import time
from typing import Any

from prometheus_client import Histogram

from core.metrics import REGISTRY

logger = logging.getLogger("sitedesk.gc")

THRESHOLDS = (2_000, 10, 100)
WARN_SECONDS = 0.1

GC_PAUSES = Histogram(
    "sitedesk_gc_pause_seconds",
    "How long each garbage collection stopped this process, by generation (2: a full collection).",
    ["generation"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5),
    registry=REGISTRY,
)
# The longest pause of this process so far, in seconds, and its generation.
LONGEST: dict[str, float] = {"seconds": 0.0, "generation": -1}
_started = [0.0]


def _timed(phase: str, info: dict[str, Any]) -> None:
    if phase == "start":
        _started[0] = time.perf_counter()
        return
    pause = time.perf_counter() - _started[0]
    generation = int(info.get("generation", 0))
    GC_PAUSES.labels(str(generation)).observe(pause)
    if pause > LONGEST["seconds"]:
        LONGEST["seconds"], LONGEST["generation"] = pause, generation
    if pause > WARN_SECONDS:
        logger.warning(
            "garbage collection of generation %s stopped the process for %.0f ms (%s objects collected)",
            generation,
            pause * 1000,
            info.get("collected", 0),
        )


def tune(thresholds: tuple[int, int, int] | None = None) -> None:
    """After start-up: collect once, freeze what is alive, set the thresholds, time every collection."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*(thresholds or THRESHOLDS))
    if _timed not in gc.callbacks:
        gc.callbacks.append(_timed)
