"""Lossy measurements y = f_theta(x) of images, for learning from incomplete data (AmbientGAN).

A measurement draws a random mask theta (float32 (B, S, S, 1), **1 = known, 0 =
missing**, the convention of masks.py) and replaces the missing pixels by a fill value:

    y = M * x + (1 - M) * fill          x, y in [-1, 1], (B, S, S, C)

Kinds (Bora et al., *AmbientGAN*, ICLR 2018), for images of side S:

    block-patch   one k x k square at a uniformly random position is missing.
                  Default k = round(28 / 64 * S) (28 at 64x64) and fill 1.0 (white): the
                  setting of the public CelebA experiment this reproduces.
    block-pixels  each pixel is missing independently with probability p.
                  Default p = 0.5 and fill 0.0 (mid-gray, AmbientGAN's "set to zero" on the
                  [-1, 1] scale); half the pixels keeps enough context around every hole
                  for a completion network, where AmbientGAN's p = 0.95 would not.
    keep-patch    only one k x k square at a uniformly random position is known.
                  Default k = S / 2 and fill 0.0.
    strokes       free-form brush strokes are missing (masks.strokes_indicator: 2-5
                  strokes, 3-50 % of the pixels), fill 0.0.
    mix           every hole the completion meets, one kind per image drawn with these
                  proportions (MIX): 30 % one square of side S/8 to S/2 anywhere; 25 %
                  strokes; 15 % scattered pixels, each missing with a probability drawn
                  per image from [0.5, 0.9]; 10 % half the image (left, right, top or
                  bottom); 10 % a centred square of side S/3 to 2S/3; 10 % two to four
                  squares of side S/8 to S/4. Fill 0.0.

All randomness is stateless: ``sample_masks(count, seed)`` is a pure function of the
seed (a (2,) integer tensor), so training runs are reproducible and resume exactly, and
it is built from TensorFlow ops only, so it runs inside tf.data and tf.function.
``masks_each(seeds)`` draws image i's mask from seeds[i] alone, independent of batching.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import tensorflow as tf

from ..masks import (blocks_indicator, boxes_indicator, default_patch_size, patch_indicator,
                     strokes_indicator)

MEASUREMENTS = ("block-patch", "block-pixels", "keep-patch", "strokes", "mix")
DEFAULT_MEASUREMENT = "mix"
REFERENCE_SIZE = 64                          # the image side of the published setting
BLOCK_PATCH_FILL = 1.0
BLOCK_PIXELS_PROB = 0.5
OTHER_FILL = 0.0


class MeasurementError(ValueError):
    """A measurement that cannot be made (unknown kind, parameter out of range)."""


@dataclasses.dataclass(frozen=True)
class Measurement:
    """The common interface; subclasses define ``sample_masks``."""
    image_size: int
    fill: float

    name = "measurement"

    def sample_masks(self, count, seed) -> tf.Tensor:
        """(count, S, S, 1) float32 masks, 1 = known, drawn from ``seed`` ((2,) ints)."""
        raise NotImplementedError

    def apply(self, x, masks) -> tf.Tensor:
        """y = M * x + (1 - M) * fill; known pixels are x's exactly (masks are 0 / 1)."""
        x = tf.convert_to_tensor(x, tf.float32)
        return tf.where(masks > 0.5, x, tf.constant(self.fill, tf.float32))

    def __call__(self, x, seed) -> tuple[tf.Tensor, tf.Tensor]:
        """Measure a batch x (B, S, S, C) with masks drawn from one seed: (y, masks)."""
        masks = self.sample_masks(tf.shape(x)[0], seed)
        return self.apply(x, masks), masks

    def masks_each(self, seeds) -> tf.Tensor:
        """(B, S, S, 1): image i's mask from seeds[i] ((B, 2) ints) alone."""
        seeds = tf.convert_to_tensor(seeds, tf.int64)
        return tf.map_fn(lambda s: self.sample_masks(1, s)[0], seeds,
                         fn_output_signature=tf.TensorSpec(
                             (self.image_size, self.image_size, 1), tf.float32))

    def measure_each(self, x, seeds) -> tuple[tf.Tensor, tf.Tensor]:
        """(y, masks) for a batch x (B, S, S, C) with per-image seeds (B, 2)."""
        masks = self.masks_each(seeds)
        return self.apply(x, masks), masks

    def params(self) -> dict:
        """The parameters that define it (for configs and logs)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                if f.name != "image_size"}


@dataclasses.dataclass(frozen=True)
class BlockPatch(Measurement):
    """One k x k square missing, at a uniformly random position."""
    patch_size: int = 28
    name = "block-patch"

    def sample_masks(self, count, seed):
        return 1.0 - patch_indicator(count, self.image_size, self.patch_size, seed)


@dataclasses.dataclass(frozen=True)
class KeepPatch(Measurement):
    """Only one k x k square known, at a uniformly random position."""
    patch_size: int = 32
    name = "keep-patch"

    def sample_masks(self, count, seed):
        return patch_indicator(count, self.image_size, self.patch_size, seed)


@dataclasses.dataclass(frozen=True)
class BlockPixels(Measurement):
    """Each pixel missing independently with probability p: M_ij ~ Bernoulli(1 - p)."""
    drop_prob: float = BLOCK_PIXELS_PROB
    name = "block-pixels"

    def sample_masks(self, count, seed):
        u = tf.random.stateless_uniform(
            tf.stack([count, self.image_size, self.image_size, 1]), seed)   # (B, S, S, 1)
        return tf.cast(u >= self.drop_prob, tf.float32)


@dataclasses.dataclass(frozen=True)
class Strokes(Measurement):
    """Free-form brush strokes missing, drawn as masks.py draws its 'strokes' masks."""
    name = "strokes"

    def sample_masks(self, count, seed):
        return 1.0 - strokes_indicator(count, self.image_size, seed)


# The mixture's components and their proportions (they sum to 1).
MIX = (("square", 0.30), ("strokes", 0.25), ("pixels", 0.15), ("half", 0.10),
       ("centre", 0.10), ("squares", 0.10))
MIX_PIXELS_PROB = (0.5, 0.9)


def _half_known(count, size: int, seed):
    """(B, S, S, 1): one half of each image missing, left, right, top or bottom."""
    side = tf.random.stateless_uniform((count,), seed, 0, 4, dtype=tf.int32)[:, None, None]
    grid = tf.range(size)
    rows, cols = grid[None, :, None], grid[None, None, :]
    half = size // 2
    hole = tf.where(side == 0, cols < half, tf.where(side == 1, cols >= size - half,
                    tf.where(side == 2, rows < half, rows >= size - half)))     # (B, S, S)
    return 1.0 - tf.cast(hole, tf.float32)[..., None]


def _centre_known(count, size: int, seed):
    """(B, S, S, 1): a centred square of side S/3 to 2S/3 missing."""
    k = tf.floor(tf.random.stateless_uniform((count, 1, 1), seed, size / 3, 2 * size / 3 + 1))
    grid = tf.range(size, dtype=tf.float32)
    top = tf.floor((size - k) / 2)                                            # (B, 1, 1)
    rows = (grid[None, :, None] >= top) & (grid[None, :, None] < top + k)
    cols = (grid[None, None, :] >= top) & (grid[None, None, :] < top + k)
    return 1.0 - tf.cast(rows & cols, tf.float32)[..., None]


@dataclasses.dataclass(frozen=True)
class Mix(Measurement):
    """One kind of hole per image, drawn with the proportions of MIX."""
    name = "mix"

    def components(self, count, seed) -> tf.Tensor:
        """(count,) int32: which of MIX each image's hole is, drawn from ``seed``."""
        u = tf.random.stateless_uniform(tf.reshape(count, (1,)), seed)
        edges = tf.constant(np.cumsum([p for _, p in MIX])[:-1], tf.float32)
        return tf.searchsorted(edges, u, side="right")

    def sample_masks(self, count, seed):
        S = self.image_size
        fold = tf.random.experimental.stateless_fold_in
        which = self.components(count, fold(seed, 0))                        # (B,)

        def pixels(n, seed):
            p = tf.random.stateless_uniform(tf.stack([n, 1, 1, 1]), fold(seed, 3), *MIX_PIXELS_PROB)
            u = tf.random.stateless_uniform(tf.stack([n, S, S, 1]), fold(seed, 4))
            return tf.cast(u >= p, tf.float32)

        makers = [                                  # in MIX's order: (n, seed) -> (n, S, S, 1)
            lambda n, seed: 1.0 - boxes_indicator(n, S, (S // 8, S // 2), fold(seed, 1)),
            lambda n, seed: 1.0 - strokes_indicator(n, S, fold(seed, 2)),
            pixels,
            lambda n, seed: _half_known(n, S, fold(seed, 5)),
            lambda n, seed: _centre_known(n, S, fold(seed, 6)),
            lambda n, seed: 1.0 - blocks_indicator(n, S, fold(seed, 7)),   # masks.py's blocks
        ]
        # Each kind is drawn for its own images only: strokes cost far more than the rest.
        places = tf.dynamic_partition(tf.range(count), which, len(MIX))     # K x (n_k,)
        made = [make(tf.size(place), seed) for make, place in zip(makers, places)]
        out = tf.dynamic_stitch(places, made)                                # (B, S, S, 1)
        return tf.ensure_shape(out, (None, S, S, 1))


def make_measurement(name: str = DEFAULT_MEASUREMENT, image_size: int = REFERENCE_SIZE, *,
                     patch_size: int | None = None, fill: float | None = None,
                     drop_prob: float | None = None) -> Measurement:
    """The measurement ``name`` for S x S images; None means that kind's default.

    Raises MeasurementError for an unknown kind, a parameter the kind does not take, or a
    value out of range (k in [1, S], p in [0, 1), fill in [-1, 1]).
    """
    if name not in MEASUREMENTS:
        raise MeasurementError(f"unknown measurement {name!r}; choose from {', '.join(MEASUREMENTS)}")
    if fill is not None and not -1.0 <= fill <= 1.0:
        raise MeasurementError(f"fill must be in [-1, 1] (the images' scale), got {fill!r}")
    if name == "block-pixels":
        if patch_size is not None:
            raise MeasurementError("block-pixels takes no patch size (it drops pixels with drop_prob)")
        p = BLOCK_PIXELS_PROB if drop_prob is None else float(drop_prob)
        if not 0.0 <= p < 1.0:
            raise MeasurementError(f"drop probability must be in [0, 1), got {drop_prob!r}")
        return BlockPixels(image_size, OTHER_FILL if fill is None else float(fill), p)
    if name in ("strokes", "mix"):
        if patch_size is not None or drop_prob is not None:
            raise MeasurementError(f"{name} takes no patch size or drop probability")
        cls = Strokes if name == "strokes" else Mix
        return cls(image_size, OTHER_FILL if fill is None else float(fill))
    if drop_prob is not None:
        raise MeasurementError(f"{name} takes no drop probability (its hole is patch_size wide)")
    if name == "block-patch":
        k = default_patch_size(image_size) if patch_size is None else int(patch_size)
        cls, default_fill = BlockPatch, BLOCK_PATCH_FILL
    else:
        k = image_size // 2 if patch_size is None else int(patch_size)
        cls, default_fill = KeepPatch, OTHER_FILL
    if not 1 <= k <= image_size:
        raise MeasurementError(f"patch size must be in [1, {image_size}], got {patch_size!r}")
    return cls(image_size, default_fill if fill is None else float(fill), k)
