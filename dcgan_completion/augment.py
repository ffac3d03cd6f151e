"""Differentiable augmentation of the discriminator's inputs (DiffAugment, Zhao et al.,
"Differentiable Augmentation for Data-Efficient GAN Training", NeurIPS 2020).

With few training images the discriminator memorises them and its gradients stop
telling the generator anything useful. Augmenting every image D sees -- real and
generated, in the discriminator's and in the generator's update -- with the same random
transformations keeps D from memorising, while the generator still learns the
un-augmented distribution, since the transformations are applied to its output, not to
the data it must match. They must be differentiable, so that the generator's gradient
passes through them.

Transformations (images in [-1, 1], (B, H, W, C); the paper's settings):
    color        brightness + U(-0.5, 0.5); saturation x U(0, 2) around each pixel's
                 channel mean; contrast x U(0.5, 1.5) around the image mean
    translation  a shift of up to 1/8 of the side in each direction, zeros shifted in
    cutout       a square of half the side, centred uniformly at random, set to zero
Each image draws its own parameters, stateless from ``seed`` ((2,) ints), so a training
step is reproducible and a resumed run continues exactly.
"""

from __future__ import annotations

import tensorflow as tf

AUGMENTATIONS = ("color", "translation", "cutout")
DEFAULT_POLICY = ("color", "translation", "cutout")    # the paper's choice for small sets
TRANSLATION = 1 / 8        # largest shift, as a fraction of the side
CUTOUT = 1 / 2             # the square's side, as a fraction of the image's


def _uniform(x, seed, low=0.0, high=1.0, shape=None):
    """One draw per image: (B, 1, 1, 1) unless ``shape``."""
    batch = tf.shape(x)[0]
    shape = tf.stack([batch, 1, 1, 1]) if shape is None else shape
    return tf.random.stateless_uniform(shape, seed, low, high, dtype=x.dtype)


def color(x, seed):
    """Brightness, saturation and contrast, each drawn per image."""
    fold = tf.random.experimental.stateless_fold_in
    x = x + _uniform(x, fold(seed, 0), -0.5, 0.5)                            # brightness
    gray = tf.reduce_mean(x, axis=3, keepdims=True)                          # (B, H, W, 1)
    x = (x - gray) * _uniform(x, fold(seed, 1), 0.0, 2.0) + gray             # saturation
    mean = tf.reduce_mean(x, axis=[1, 2, 3], keepdims=True)                  # (B, 1, 1, 1)
    return (x - mean) * _uniform(x, fold(seed, 2), 0.5, 1.5) + mean          # contrast


def translation(x, seed, fraction: float = TRANSLATION):
    """Shift each image by whole pixels, up to ``fraction`` of its side; zeros come in."""
    size = x.shape[1]
    r = max(1, int(size * fraction + 0.5))
    batch = tf.shape(x)[0]
    shift = tf.random.stateless_uniform(tf.stack([batch, 2]), seed, -r, r + 1,
                                        dtype=tf.int32)                      # (B, 2): dy, dx
    padded = tf.pad(x, [[0, 0], [r, r], [r, r], [0, 0]])                     # (B, H+2r, W+2r, C)
    index = tf.range(size)[None, :] + r                                      # (1, S)
    rows = index - shift[:, :1]                                              # (B, S)
    cols = index - shift[:, 1:]                                              # (B, S)
    x = tf.gather(padded, rows, axis=1, batch_dims=1)                        # (B, S, W+2r, C)
    return tf.gather(x, cols, axis=2, batch_dims=1)                          # (B, S, S, C)


def cutout(x, seed, fraction: float = CUTOUT):
    """Zero one square of side ``fraction`` x the image's, centred anywhere in the image."""
    size = x.shape[1]
    side = int(size * fraction + 0.5)
    batch = tf.shape(x)[0]
    centre = tf.random.stateless_uniform(tf.stack([batch, 2]), seed, 0, size,
                                         dtype=tf.int32)                     # (B, 2)
    top = centre - side // 2                                                 # may lie outside
    grid = tf.range(size)[None, :]                                           # (1, S)
    rows = (grid >= top[:, :1]) & (grid < top[:, :1] + side)                 # (B, S)
    cols = (grid >= top[:, 1:]) & (grid < top[:, 1:] + side)
    inside = rows[:, :, None] & cols[:, None, :]                             # (B, S, S)
    return x * tf.cast(~inside, x.dtype)[..., None]


OPS = {"color": color, "translation": translation, "cutout": cutout}


def check_policy(policy) -> tuple[str, ...]:
    """The policy as a tuple of known names; ValueError naming an unknown one."""
    policy = tuple(policy)
    unknown = [name for name in policy if name not in OPS]
    if unknown:
        raise ValueError(f"unknown augmentation {unknown[0]!r}; choose from {', '.join(AUGMENTATIONS)}")
    return policy


def diff_augment(x, policy, seed):
    """x (B, H, W, C) augmented by each transformation of ``policy`` in turn, differentiably;
    ``seed`` (2,) ints. An empty policy returns x."""
    for i, name in enumerate(policy):
        x = OPS[name](x, tf.random.experimental.stateless_fold_in(seed, i))
    return x
