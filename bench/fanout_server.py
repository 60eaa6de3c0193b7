"""`sitedesk serve` with a garbage-collector watch, for `bench.fanout`.

    python -m bench.fanout_server GC_FILE serve --host 127.0.0.1 --port N

Installs a `gc.callbacks` hook that times every collection, then runs the
`sitedesk` command line as usual. A daemon thread writes the longest pause
and the count per generation to GC_FILE (JSON) every 0.2 s, so the bench
reads what the server process itself saw; on request (GC_FILE with the
suffix `.count` created) it also counts the objects a full collection would
traverse. `BENCH_GC_THRESHOLDS=a,b,c` replaces the thresholds the server sets
(`server.collector.THRESHOLDS`), to compare settings. It measures the server from the
outside the same way whatever the server does about its own collector, so a
run before and after a change to the server compare like with like.
"""

from __future__ import annotations

import gc
import itertools
import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

# gc.get_freeze_count() walks the permanent generation (~180,000 objects after start-up: about
# 20 ms in the server); read every 0.2 s it was most of the idle server's CPU, so every 5 s.
FROZEN_EVERY_TICKS = 25
STATS: dict[str, Any] = {"max_ms": 0.0, "max_generation": None, "count": [0, 0, 0], "total_ms": 0.0}
_started: list[float] = [0.0]


def _on_gc(phase: str, info: dict[str, Any]) -> None:
    if phase == "start":
        _started[0] = time.perf_counter()
        return
    pause = (time.perf_counter() - _started[0]) * 1000
    generation = int(info.get("generation", 0))
    STATS["count"][generation] += 1
    STATS["total_ms"] += pause
    if pause > STATS["max_ms"]:
        STATS["max_ms"] = pause
        STATS["max_generation"] = generation


def _writer(path: Path) -> None:
    request = path.with_suffix(".count")
    tracked = 0
    frozen = 0
    for tick in itertools.count():
        time.sleep(0.2)
        if request.exists():  # the bench asks how many objects a full collection would traverse
            request.unlink()
            tracked = len(gc.get_objects())
        if tick % FROZEN_EVERY_TICKS == 0:
            frozen = gc.get_freeze_count()
        snapshot = {**STATS, "count": list(STATS["count"]), "thresholds": list(gc.get_threshold())}
        snapshot.update(frozen=frozen, tracked=tracked)
        path.write_text(json.dumps(snapshot))


def main() -> int:
    path = Path(sys.argv[1])
    if os.environ.get("BENCH_GC_THRESHOLDS"):  # try other thresholds than the server's own
        import server.collector

        server.collector.THRESHOLDS = tuple(int(x) for x in os.environ["BENCH_GC_THRESHOLDS"].split(","))  # type: ignore[assignment]
    gc.callbacks.append(_on_gc)
    threading.Thread(target=_writer, args=(path,), daemon=True, name="bench-gc-watch").start()
    from server.cli import main as sitedesk

    return sitedesk(sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
