"""Completing images with a trained completion network: one forward pass per batch.

    completer = NetworkCompleter(net)            # traces its forward pass once per batch shape
    completer.complete(images_uint8, masks)      # uint8 (B, H, W, C), known pixels kept exactly
    config, completer, precision = load_network_completer(path)   # precision "auto"

Whoever loads a network builds its completer once and keeps it; nothing is cached here.

With detail (DetailedCompleter): a network trained on a pixel loss fills smoothly; its
fills can take the fine detail of a DCGAN of the same image side: G's image at the
encoder's z for the masked image, moved onto the prior's sphere (completion.add_detail
with NETWORK_DETAIL_ITER = 0 iterations there, as the projection's ``detail``). On the
128-px select split (100 faces, the bundled 128-px network, DCGAN and encoder) hole PSNR
and sharpness in the hole at 1:1, centre / left half / strokes: the network 21.56 / 0.07,
16.96 / 0.07, 24.37 / 0.11; with detail (sigma 1 px: completion.DETAIL_SIGMA; scaled to
the photo's own, completion.DETAIL_GAIN) 21.51 / 0.77, 16.88 / 0.88, 24.18 / 0.82
(bench/bench_128.py; as G draws it, gain 1: 21.50 / 0.83, 16.88 / 0.93, 24.05 / 0.99;
with an earlier network, the same figures within 0.01 as after one iteration on the
sphere). At batch 64 that is 53-73 images/s instead of 90-106 (the
Poisson blend, the encoder and G's pass; bench/bench_completion_net.py --detail). The
first version (20 iterations at sigma 1.5) gave 20.94 / 0.80, 16.16 / 0.82, 23.29 / 0.84
with the network shipped before, at 11 images/s; a prototype that started from the
encoder's z for the network's whole fill instead gave 0.57-0.75.

Precision: the network keeps its quality in bfloat16 (hole PSNR within 0.01 dB of float32
on the six mask types of the validation faces), but whether bfloat16 is faster depends
on the processor (precision.py), so ``auto`` times one batch in each precision on the
machine at hand and keeps the faster.
"""

from __future__ import annotations

import functools
import logging

import keras
import numpy as np
import tensorflow as tf

from .. import images
from ..blend import composite
from ..config import AUTO_PRECISION, AUTO_PRECISIONS, BATCH_SIZE, MEASURE_PRECISION
from ..precision import AUTO_REPEATS
from ..precision import fastest as fastest_run

log = logging.getLogger(__name__)


def unsupported_masks(spec) -> str | None:
    """Why a completion network cannot complete the masks of ``spec`` (a masks.MaskSpec),
    or None when it can: it fills holes around known pixels, and lowres masks know none."""
    if spec.lowres_factor:
        return "a completion network fills holes; lowres masks hide every pixel"
    return None


class NetworkCompleter:
    """A completion network with its own compiled inference pass net([x, M], training=False)."""

    def __init__(self, net: keras.Model):
        self.net = net
        self.image_shape = tuple(net.output_shape[1:])                       # (S, S, C)
        # reduce_retracing: one trace serves every batch size (the last batch is smaller).
        self._forward = tf.function(lambda x, m: net([x, m], training=False),
                                    reduce_retracing=True)

    def complete(self, images_uint8: np.ndarray, masks: np.ndarray,
                 batch_size: int = BATCH_SIZE) -> np.ndarray:
        """uint8 (B, H, W, C) completions in one forward pass per batch of ``batch_size``.

        masks (B, H, W, 1), 1 = known. Known pixels are the input's exactly (composite in
        uint8: M x + (1 - M) round(net)); what lies under the hole is never read by the net.
        """
        images_uint8 = np.asarray(images_uint8)
        masks = np.asarray(masks, np.float32)
        self._check(images_uint8, masks, batch_size)
        parts = []
        for start in range(0, len(images_uint8), batch_size):
            x, m = images_uint8[start:start + batch_size], masks[start:start + batch_size]
            generated = images.to_uint8(self._forward(images.to_float(x), tf.constant(m)))
            parts.append(composite(x, m, generated))
        return np.concatenate(parts) if parts else images_uint8.copy()

    def _check(self, images_uint8: np.ndarray, masks: np.ndarray, batch_size: int) -> None:
        if images_uint8.dtype != np.uint8 or images_uint8.ndim != 4:
            raise ValueError(f"images must be uint8 (B, H, W, C), got {images_uint8.dtype} "
                             f"{images_uint8.shape}")
        if images_uint8.shape[1:] != self.image_shape:
            raise ValueError(f"images are {'x'.join(map(str, images_uint8.shape[1:]))} but the "
                             f"network completes {'x'.join(map(str, self.image_shape))}")
        if masks.shape != images_uint8.shape[:3] + (1,):
            raise ValueError(f"masks must be (B, H, W, 1) = {images_uint8.shape[:3] + (1,)}, "
                             f"got {masks.shape}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")


class DetailedCompleter:
    """A NetworkCompleter whose fills get the fine detail of the DCGAN ``generator`` (same
    image side) on the prior's sphere, from ``encoder``'s z for each masked image
    (completion.add_detail with complete()'s ``settings``, G's image at that z on the
    sphere: completion.NETWORK_DETAIL_ITER iterations); the same complete() call."""

    def __init__(self, completer: NetworkCompleter, generator: keras.Model,
                 discriminator: keras.Model, encoder: keras.Model, settings: dict):
        if tuple(generator.output_shape[1:]) != completer.image_shape:
            raise ValueError(f"the DCGAN makes {'x'.join(map(str, generator.output_shape[1:]))} "
                             f"images, the network {'x'.join(map(str, completer.image_shape))}")
        if encoder is None:
            raise ValueError("detail for a network's fills starts from the DCGAN's encoder, and "
                             "this DCGAN has none (dcgan-train-encoder trains one)")
        self.completer, self.generator, self.discriminator = completer, generator, discriminator
        self.encoder, self.settings = encoder, settings
        self.image_shape = completer.image_shape

    def complete(self, images_uint8: np.ndarray, masks: np.ndarray,
                 batch_size: int = BATCH_SIZE) -> np.ndarray:
        """uint8 (B, H, W, C): the network's completions with the DCGAN's detail."""
        from ..completion import NETWORK_DETAIL_ITER, add_detail
        from ..encoder import encode
        fills = self.completer.complete(images_uint8, masks, batch_size)
        parts = []
        for start in range(0, len(fills), batch_size):
            x, m = images_uint8[start:start + batch_size], masks[start:start + batch_size]
            parts.append(add_detail(x, m, fills[start:start + batch_size], self.generator,
                                    self.discriminator, encode(self.encoder, x, m),
                                    self.settings, steps=NETWORK_DETAIL_ITER))
        return np.concatenate(parts) if parts else fills


def fastest(completers: dict, batch_size: int = BATCH_SIZE, repeats: int = AUTO_REPEATS
            ) -> tuple[str, dict[str, float]]:
    """(the key of the completer in ``completers`` ({name: NetworkCompleter}, one image
    shape) that completes a batch of ``batch_size`` fastest (precision.fastest) on a batch of
    grey images with a centre hole, {key: its best seconds})."""
    shape = next(iter(completers.values())).image_shape
    x = np.full((batch_size, *shape), 128, np.uint8)
    m = np.ones((batch_size, *shape[:2], 1), np.float32)
    side = shape[0] // 2
    m[:, side // 2:side // 2 + side, side // 2:side // 2 + side] = 0.0
    best, seconds = fastest_run(
        {name: functools.partial(c.complete, x, m, batch_size) for name, c in completers.items()},
        repeats)
    log.info("completion network precision: %s (%s, batch %d; kept for next time)", best,
             ", ".join(f"{n} {batch_size / t:.0f} images/s" for n, t in seconds.items()), batch_size)
    return best, seconds


def load_network_completer(path_or_dir: str | None = None, precision: str = AUTO_PRECISION,
                           batch_size: int = BATCH_SIZE, *, images: int | None = None):
    """(config, NetworkCompleter, precision) of the network at ``path_or_dir`` (as
    weights.load_completion_net; None: the bundled one), computing in ``precision``, or
    with ``auto`` in the faster of AUTO_PRECISIONS at ``batch_size`` for a job of
    ``images`` images (None: unknown): remembered, timed when the job is worth it, else
    float32; ``measure`` times now (precision.py)."""
    from ..precision import choose
    from .weights import in_precision, load_completion_net
    if precision not in (AUTO_PRECISION, MEASURE_PRECISION):
        config, net = load_completion_net(path_or_dir, precision)
        return config, NetworkCompleter(net), precision
    batch = min(batch_size, images) if images else batch_size
    config, net = load_completion_net(path_or_dir, AUTO_PRECISIONS[0])

    def rebuild(config, completer, dtype_policy):        # the same weights, no second read
        return config, NetworkCompleter(in_precision(config, completer.net, dtype_policy)[1])
    best, (config, completer) = choose(
        "network", (config, NetworkCompleter(net)), rebuild,
        lambda loaded: fastest({p: c for p, (_, c) in loaded.items()}, batch),
        batch=batch, images=images, calls_per_batch=1, measure=precision == MEASURE_PRECISION)
    return config, completer, best
