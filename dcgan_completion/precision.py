"""Choosing a compute precision by timing it on the machine at hand (``--precision auto``).

Whether mixed bfloat16 is faster than float32 depends on the processor: 1.6-2x faster on
an AMD EPYC (Zen 4) with AVX-512 BF16, while an Intel Xeon with AVX512_BF16 but no AMX
runs bf16 convolutions slower than float32 (../shared/guide/tensorflow-notes.md). CPU
flags do not tell the two apart, so ``auto`` runs the same work in each precision once
(tracing), times it AUTO_REPEATS times and keeps the faster. Both models keep their
quality in bf16 (measured on the validation faces: the completion network within 0.01 dB
hole PSNR on six mask types, the DCGAN's projection within 0.01 dB on three).
"""

from __future__ import annotations

import logging
import time
from typing import Callable

from .config import AUTO_PRECISIONS, BATCH_SIZE

log = logging.getLogger(__name__)

AUTO_REPEATS = 2          # timed calls per candidate, best kept
# Another candidate replaces the first (float32) only when it is at least this much faster:
# bf16 is 1.6-2x faster where it helps, and near-equal timings (tiny models, noise) then
# keep float32 rather than flip between runs.
AUTO_MARGIN = 1.2


def fastest(runs: dict[str, Callable[[], object]], repeats: int = AUTO_REPEATS,
            margin: float = AUTO_MARGIN) -> tuple[str, dict[str, float]]:
    """(the key of the fastest of ``runs``, {key: its best seconds}): each run is called
    once untimed (it traces), then timed ``repeats`` times. The first key is kept unless
    another is faster by the factor ``margin``."""
    seconds = {}
    for name, run in runs.items():
        run()
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            run()
            times.append(time.perf_counter() - start)
        seconds[name] = min(times)
    first = next(iter(seconds))
    best = min(seconds, key=seconds.get)
    return (best if seconds[best] * margin < seconds[first] else first), seconds


def load_fastest_dcgan(source: str | None = None, batch_size: int = BATCH_SIZE):
    """(config, G, D, precision) of the DCGAN ``source`` (None: the bundled one) in the
    precision of AUTO_PRECISIONS whose projection step is fastest at ``batch_size`` here."""
    from .checkpoints import load_model
    from .completion import projection_step
    loaded = {p: load_model(source, p) for p in AUTO_PRECISIONS}
    best, seconds = fastest({p: projection_step(G, D, batch_size)
                             for p, (_, G, D) in loaded.items()})
    log.info("DCGAN precision: %s (projection step at batch %d: %s)", best, batch_size,
             ", ".join(f"{p} {s * 1000:.0f} ms" for p, s in seconds.items()))
    return (*loaded[best], best)
