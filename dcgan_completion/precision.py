"""Choosing a compute precision by timing it on the machine at hand (``--precision auto``).

Whether mixed bfloat16 is faster than float32 depends on the processor: 1.6-2x faster on
an AMD EPYC (Zen 4) with AVX-512 BF16, while an Intel Xeon with AVX512_BF16 but no AMX
runs bf16 convolutions slower than float32 (../shared/guide/tensorflow-notes.md). CPU
flags do not tell the two apart, so ``auto`` runs the same work in each precision once
(tracing), times it AUTO_REPEATS times and keeps the faster. Both models keep their
quality in bf16 (measured on the validation faces: the completion network within 0.01 dB
hole PSNR on six mask types, the DCGAN's projection within 0.01 dB on three).

Timing costs two traces and six calls, seconds at every start. So the choice is
remembered, once per setting (the processor, TensorFlow's version, the GPUs, the method,
the model's shape and the batch), in the user's cache folder (platformdirs: on Linux
$XDG_CACHE_HOME/dcgan-completion, else ~/.cache/dcgan-completion), and ``auto`` reads it
there. A job smaller than the timing itself is not timed: it runs in float32 (the first
of AUTO_PRECISIONS) unless a choice is remembered. ``measure`` times now, whatever the
job, and remembers the result. A damaged cache file is ignored with a warning (and
replaced at the next timing); naming a precision never reads or writes the cache.
"""

from __future__ import annotations

import json
import logging
import math
import os
import platform
import time
from typing import Callable

from .config import AUTO_PRECISIONS, BATCH_SIZE, MEASURE_PRECISION

log = logging.getLogger(__name__)

CACHE_APP = "dcgan-completion"
CACHE_FILE = "precision.json"
CACHE_VERSION = 1
# What one trace costs, in image-steps of the same work (a trace's seconds over one image's
# share of a call): estimates from a profile on the 2-core CPU (a projection trace about
# 0.6-0.9 s against 2-5 ms an image-step; the network's about 1.2 s against 2.5 ms an
# image). A job of fewer image-steps than the timing's two traces and six calls is not
# worth timing.
TRACE_IMAGE_STEPS = {"dcgan": 300, "network": 500}
METHOD_NAMES = {"dcgan": "DCGAN", "network": "completion network"}

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


# --- the remembered choice --------------------------------------------------------------

def cache_path() -> str:
    """The file that keeps the timed choices: the platform's user cache folder."""
    import platformdirs
    return os.path.join(platformdirs.user_cache_dir(CACHE_APP, appauthor=False), CACHE_FILE)


def processor() -> str:
    """The processor's model name (what decides whether bf16 pays), e.g. 'AMD EPYC 9R14'."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def setting_key(method: str, config, batch_size: int) -> str:
    """One string naming everything a timed choice depends on: the machine (processor,
    TensorFlow, GPUs), the method, the model's shape (its config without how it runs) and
    the batch."""
    import tensorflow as tf
    gpus = [tf.config.experimental.get_device_details(d).get("device_name", d.name)
            for d in tf.config.list_physical_devices("GPU")]
    shape = {k: v for k, v in config.to_dict().items() if k not in config.RUNTIME_FIELDS}
    return json.dumps({"processor": processor(), "tensorflow": tf.__version__, "gpus": gpus,
                       "method": method, "model": shape, "batch": batch_size}, sort_keys=True)


def _read_cache(path: str) -> dict:
    """{setting key: entry} of the cache file; {} (with a warning) when it is damaged."""
    try:
        with open(path) as f:
            data = json.load(f)
        if not isinstance(data, dict) or not isinstance(data.get("choices"), dict):
            raise ValueError("not a precision cache")
        if data.get("version") != CACHE_VERSION:
            return {}                       # another version's file: measured again
        return data["choices"]
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as e:      # json.JSONDecodeError is a ValueError
        log.warning("the precision cache %s is unreadable (%s): ignored; the choice is timed "
                    "again and the file replaced", path, e)
        return {}


def remembered(key: str) -> str | None:
    """The precision timed before for this setting, or None."""
    entry = _read_cache(cache_path()).get(key)
    choice = entry.get("precision") if isinstance(entry, dict) else None
    return choice if choice in AUTO_PRECISIONS else None


def remember(key: str, choice: str, seconds: dict[str, float]) -> None:
    """Keep the timed choice for this setting (written atomically; a cache that cannot be
    written only costs the timing again next time)."""
    from .files import atomic_write
    path = cache_path()
    choices = _read_cache(path)
    choices[key] = {"precision": choice, "seconds": seconds,
                    "measured": time.strftime("%Y-%m-%dT%H:%M:%S")}
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with atomic_write(path) as f:
            json.dump({"version": CACHE_VERSION, "choices": choices}, f, indent=1)
    except OSError as e:
        log.warning("the precision choice could not be kept in %s (%s)", path, e)


def worth_timing(method: str, images: int | None, calls_per_batch: int, batch_size: int) -> bool:
    """Whether a job of ``images`` images, each batch taking ``calls_per_batch`` calls, does
    more work than timing the candidates would (their traces and 1 + AUTO_REPEATS calls
    each at the job's batch); an unknown job size (None) is timed."""
    if images is None:
        return True
    job = math.ceil(images / batch_size) * calls_per_batch * batch_size        # image-steps
    timing = len(AUTO_PRECISIONS) * (TRACE_IMAGE_STEPS[method] + (1 + AUTO_REPEATS) * batch_size)
    return job >= timing


def choose(method: str, first: tuple, rebuild: Callable, time_them: Callable, *,
           batch: int, images: int | None, calls_per_batch: int, measure: bool):
    """(precision, the loaded model in it) for ``--precision auto`` / ``measure``: the one
    mechanism of both methods. ``first``: the model loaded in AUTO_PRECISIONS[0], a tuple
    whose first item is its config; ``rebuild(*first, precision)``: the same model in
    another precision (no second read of its files); ``time_them({precision: model})`` ->
    (best, {precision: seconds}). The choice is the remembered one, else float32 for a job
    not worth timing (``images`` images at ``batch``, ``calls_per_batch`` calls a batch),
    else timed now and remembered."""
    key = setting_key(method, first[0], batch)
    choice, why = None, ""
    if not measure:
        choice = remembered(key)
        why = f"timed before on this machine, kept in {cache_path()}"
        if choice is None and not worth_timing(method, images, calls_per_batch, batch):
            choice, why = AUTO_PRECISIONS[0], "a job this small is not worth timing the precisions"
    if choice is not None:
        log.info("%s precision: %s (%s; --precision %s times them now)", METHOD_NAMES[method],
                 choice, why, MEASURE_PRECISION)
        return choice, first if choice == AUTO_PRECISIONS[0] else rebuild(*first, choice)
    loaded = {AUTO_PRECISIONS[0]: first, **{p: rebuild(*first, p) for p in AUTO_PRECISIONS[1:]}}
    best, seconds = time_them(loaded)
    remember(key, best, seconds)
    return best, loaded[best]


def load_fastest_dcgan(source: str | None = None, batch_size: int = BATCH_SIZE, *,
                       images: int | None = None, steps: int = 1, measure: bool = False):
    """(config, G, D, precision) of the DCGAN ``source`` (None: the bundled one) in the
    precision of AUTO_PRECISIONS whose projection step is fastest here for a job of
    ``images`` images (None: unknown) at ``batch_size`` and ``steps`` steps a batch:
    remembered, timed now (``measure``, or a job worth it) and remembered, or float32."""
    from .checkpoints import in_precision, load_model
    from .completion import projection_step
    batch = min(batch_size, images) if images else batch_size

    def time_them(loaded):
        best, seconds = fastest({p: projection_step(G, D, batch) for p, (_, G, D) in loaded.items()})
        log.info("DCGAN precision: %s (projection step at batch %d: %s; kept for next time)",
                 best, batch, ", ".join(f"{p} {s * 1000:.0f} ms" for p, s in seconds.items()))
        return best, seconds
    # Read once, in float32; other precisions copy its weights.
    best, model = choose("dcgan", load_model(source, AUTO_PRECISIONS[0]), in_precision,
                         time_them, batch=batch, images=images, calls_per_batch=steps,
                         measure=measure)
    return (*model, best)
