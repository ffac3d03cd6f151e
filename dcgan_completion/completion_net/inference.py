"""Completing images with a trained completion network: one forward pass per batch.

    completer = NetworkCompleter(net)            # traces its forward pass once per batch shape
    completer.complete(images_uint8, masks)      # uint8 (B, H, W, C), known pixels kept exactly

Whoever loads a network builds its completer once and keeps it; nothing is cached here.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from .. import images
from ..blend import composite
from ..config import BATCH_SIZE


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
