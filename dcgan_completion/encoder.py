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

With ``pooling`` f > 1 (issue 24) it reads the image averaged down f times first, a block
known only when all of its f x f pixels are, and the layers above see S/f px:

    E_f([x, M]) = E([avgpool_f(x), minpool_f(M)])       (B, S, S, C) -> (B, S/f, S/f, C)

That is how the encoder of a model of size S/f starts one grown from it (checkpoints.
load_encoder(pooled=True): the same weights), and how it is fine-tuned for it
(dcgan-train-encoder --pooling f --init_from it): the start point needs the face's
layout, which the smaller image holds, at a quarter of the cost for each halving.

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
    pooling: int = 1            # reads the image averaged down this many times (a power of two)
    dtype_policy: str = "float32"   # training precision; loaded encoders compute in float32

    def __post_init__(self):
        check_image(self.image_size, self.channels, EncoderConfigError)
        for name in ("z_dim", "width", "pooling"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise EncoderConfigError(f"{name} must be a whole number >= 1, got {value!r}")
        if self.pooling & (self.pooling - 1) or self.image_size // self.pooling < 8:
            raise EncoderConfigError(f"pooling must be a power of two that leaves at least 8 px "
                                     f"of the {self.image_size}-px image, got {self.pooling}")
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

    def grown(self, image_size: int, channels: int, z_dim: int) -> EncoderConfig | None:
        """This encoder reading the images of a generator of that shape, averaged down, when
        they are f = 2, 4 ... times larger than its own generator's, from the same z_dim and
        channels (its weights fit it unchanged); None otherwise."""
        factor, rest = divmod(image_size, self.image_size)
        if (rest or factor < 2 or factor & (factor - 1)
                or (channels, z_dim) != (self.channels, self.z_dim)):
            return None
        return self.replace(image_size=image_size, pooling=self.pooling * factor)


def encoder_widths(config: EncoderConfig) -> list[int]:
    """Channels of the conv maps, from the first (64x64, w = 64: 64, 128, 256, 512)."""
    size = config.image_size // config.pooling
    return [config.width * min(MAX_MULT, 1 << i) for i in range(num_resolutions(size))]


class MaskInput(layers.Layer):
    """[x, M] -> concat(M x, M): the hole is zeroed, so the encoder never reads it. With
    ``pooling`` f, x and M are first averaged down f times, a block known (1) only when
    all of its pixels are: the hole still never reaches the encoder. No weights, so an
    encoder's weights and checkpoints fit it whatever its pooling."""

    def __init__(self, pooling: int = 1, **kwargs):
        super().__init__(**kwargs)
        self.pooling = pooling

    def call(self, x, mask):
        if self.pooling > 1:
            f = self.pooling
            x = tf.nn.avg_pool2d(x, f, f, "VALID")                           # (B, S/f, S/f, C)
            mask = -tf.nn.max_pool2d(-mask, f, f, "VALID")                   # min: all f x f known
        return tf.concat([mask * x, mask], axis=-1)

    def get_config(self):
        return {**super().get_config(), "pooling": self.pooling}


def build_encoder(config: EncoderConfig) -> keras.Model:
    """E([x, M]): x (B, S, S, C) in [-1, 1], M (B, S, S, 1) 1 = known -> z (B, z_dim) in [-1, 1]."""
    policy = config.dtype_policy
    x = keras.Input(config.image_shape, name="image")
    m = keras.Input((config.image_size, config.image_size, 1), name="mask")
    h = MaskInput(config.pooling, name="e_input")(x, m)                # (B, S/f, S/f, C+1)
    for i, width in enumerate(encoder_widths(config)):                 # each halves H and W
        h = ops.conv2d(width, f"e_h{i}_conv", dtype=policy)(h)
        h = ops.lrelu(f"e_h{i}_lrelu", dtype=policy)(h)
    h = layers.Flatten(name="e_flatten")(h)                            # (B, 4 * 4 * 8w)
    h = ops.linear(config.z_dim, "e_lin", dtype="float32")(h)          # (B, z_dim)
    z = layers.Activation("tanh", dtype="float32", name="e_out")(h)    # G's domain [-1, 1]
    return keras.Model([x, m], z, name="encoder")


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
