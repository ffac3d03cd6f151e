"""The encoder: a learned start point for the projection (issue 13; in-domain GAN
inversion, Zhu et al. 2020, trained on masked inputs as Lahiri et al. 2018-2020 do).

Pure model definitions: no I/O, no training logic (train_encoder.py trains one,
checkpoints.py finds and loads one). For the default 64x64x3 model, width w = 64:

    E([x, M]): y = M x                                  (B, 64, 64, 3)   the hole set to 0
        concat(y, M)                                    (B, 64, 64, 4)   known pixels and where
        conv5/2 w    + LeakyReLU 0.2                    (B, 32, 32, 64)
        conv5/2 2w   + LeakyReLU 0.2                    (B, 16, 16, 128)
        conv5/2 4w   + LeakyReLU 0.2                    (B, 8, 8, 256)
        conv5/2 8w   + LeakyReLU 0.2                    (B, 4, 4, 512)
        flatten, linear z_dim, tanh                     (B, z_dim) in [-1, 1] = G's domain

the discriminator's layout (model.discriminator_widths) without batch norm, so that one
image's z depends on that image alone, whatever batch it is encoded in. The encoder
never reads the pixels under the hole: they are multiplied by M before the first layer.

``encode(E, images, masks)`` is the start point complete(z_init=...) takes.
"""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from . import ops
from .config import UNSCALED_POLICIES, ConfigError, SavedConfig, check_image
from .images import to_float
from .model import MAX_MULT, num_resolutions

CONFIG_KIND = "encoder"
# Its hidden layers may compute in bfloat16 (the variables and z stay float32); float16
# would need loss scaling, which the encoder's trainer does not do.


class EncoderConfigError(ConfigError):
    """An encoder config that cannot describe a valid encoder."""


@dataclasses.dataclass(frozen=True)
class EncoderConfig(SavedConfig):
    """Everything needed to rebuild an encoder. image_size, channels and z_dim are the
    generator's it was trained for (train_encoder.EncoderTrainer fills them in)."""
    ERROR = EncoderConfigError
    WHAT = "encoder"

    image_size: int = 64        # square images, a power of two >= 8
    channels: int = 3           # 1 or 3
    z_dim: int = 100            # the generator's latent size
    width: int = 64             # channels of the first conv layer (w, 2w, 4w, 8w ...)
    dtype_policy: str = "float32"   # training precision; loaded encoders compute in float32

    def __post_init__(self):
        check_image(self.image_size, self.channels, EncoderConfigError)
        for name in ("z_dim", "width"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise EncoderConfigError(f"{name} must be a whole number >= 1, got {value!r}")
        if self.dtype_policy not in UNSCALED_POLICIES:
            raise EncoderConfigError(f"dtype_policy must be one of {', '.join(UNSCALED_POLICIES)}, "
                                     f"got {self.dtype_policy!r}")

    def mismatch(self, image_size: int, channels: int, z_dim: int) -> str | None:
        """Why this encoder cannot start a generator of that shape, or None when it can."""
        mine, theirs = (self.image_size, self.channels, self.z_dim), (image_size, channels, z_dim)
        if mine == theirs:
            return None
        return (f"it was trained for a generator of {self.image_size}x{self.image_size}x"
                f"{self.channels} images and z_dim {self.z_dim}, but this one makes "
                f"{image_size}x{image_size}x{channels} images from z_dim {z_dim}")

    def pooling_factor(self, image_size: int, channels: int, z_dim: int) -> int | None:
        """f >= 2 when a generator of that shape makes the images of this encoder's
        generator f times larger (f a power of two), from the same z_dim and channels:
        this encoder can then start it through pooled_encoder. None otherwise."""
        factor, rest = divmod(image_size, self.image_size)
        if (rest or factor < 2 or factor & (factor - 1)
                or (channels, z_dim) != (self.channels, self.z_dim)):
            return None
        return factor


def encoder_widths(config: EncoderConfig) -> list[int]:
    """Channels of the conv maps, from the first (64x64, w = 64: 64, 128, 256, 512)."""
    return [config.width * min(MAX_MULT, 1 << i) for i in range(num_resolutions(config.image_size))]


class MaskInput(layers.Layer):
    """[x, M] -> concat(M x, M): the hole is zeroed, so the encoder never reads it."""

    def call(self, x, mask):
        return tf.concat([mask * x, mask], axis=-1)


def build_encoder(config: EncoderConfig) -> keras.Model:
    """E([x, M]): x (B, S, S, C) in [-1, 1], M (B, S, S, 1) 1 = known -> z (B, z_dim) in [-1, 1]."""
    policy = config.dtype_policy
    x = keras.Input(config.image_shape, name="image")
    m = keras.Input((config.image_size, config.image_size, 1), name="mask")
    h = MaskInput(name="e_input")(x, m)                                # (B, S, S, C+1)
    for i, width in enumerate(encoder_widths(config)):                 # each halves H and W
        h = ops.conv2d(width, f"e_h{i}_conv", dtype=policy)(h)
        h = ops.lrelu(f"e_h{i}_lrelu", dtype=policy)(h)
    h = layers.Flatten(name="e_flatten")(h)                            # (B, 4 * 4 * 8w)
    h = ops.linear(config.z_dim, "e_lin", dtype="float32")(h)          # (B, z_dim)
    z = layers.Activation("tanh", dtype="float32", name="e_out")(h)    # G's domain [-1, 1]
    return keras.Model([x, m], z, name="encoder")


def pooled_encoder(encoder: keras.Model, factor: int) -> keras.Model:
    """The encoder of a model of size S as the start point of one of size f S (issue 24):

        E_f([x, M]) = E([avgpool_f(x), minpool_f(M)])    x (B, fS, fS, C) -> z (B, z_dim)

    It fits a larger generator that draws the smaller one's face for the same z, sharper:
    one grown from it (model.fading_models; at alpha 0 it is the smaller G upsampled, and
    training from there keeps z's meaning), until an encoder of its own is trained. A
    block counts as known only when all of its f x f pixels are, so the hole still never
    reaches E (MaskInput zeroes the blocks it touches)."""
    _, size, _, channels = encoder.inputs[0].shape
    x = keras.Input((size * factor, size * factor, channels), name="image")   # (B, fS, fS, C)
    m = keras.Input((size * factor, size * factor, 1), name="mask")           # (B, fS, fS, 1)
    small = layers.AveragePooling2D(factor, name="e_pool_image")(x)            # (B, S, S, C)
    hole = layers.MaxPooling2D(factor, name="e_pool_hole")(1.0 - m)            # (B, S, S, 1)
    return keras.Model([x, m], encoder([small, 1.0 - hole]), name=f"encoder_pooled_{factor}")


def encoder_input(images: np.ndarray, masks: np.ndarray, lowres_factor: int | None = None):
    """(x, M) the encoder reads for uint8 ``images`` (B, S, S, C) and ``masks`` (B, S, S, 1):
    x in [-1, 1]; for lowres masks (no pixel known as such) the f x f block averages,
    given as a fully known image."""
    x = to_float(images)                                               # (B, S, S, C)
    m = tf.convert_to_tensor(masks, tf.float32)                        # (B, S, S, 1)
    if lowres_factor:
        f = lowres_factor
        pooled = tf.nn.avg_pool2d(x, f, f, "VALID")                    # (B, S/f, S/f, C)
        x = tf.repeat(tf.repeat(pooled, f, axis=1), f, axis=2)
        m = tf.ones_like(m)
    return x, m


def encode(encoder: keras.Model | None, images: np.ndarray, masks: np.ndarray,
           lowres_factor: int | None = None) -> np.ndarray | None:
    """z_init = E(masked images, M): (B, z_dim) float32 in [-1, 1], for complete(z_init=...);
    None (complete's random start) when there is no encoder."""
    if encoder is None:
        return None
    x, m = encoder_input(images, masks, lowres_factor)
    return np.asarray(encoder([x, m], training=False), np.float32)
