"""The DCGAN generator and discriminator (Radford et al. 2015), generalised in size.

Pure model definitions: no I/O, no training logic. For the default 64x64x3 model:

    G: z (B, 100) -> linear -> (B, 4, 4, 512) -> deconv (B, 8, 8, 256) -> (B, 16, 16, 128)
       -> (B, 32, 32, 64) -> deconv + tanh (B, 64, 64, 3)
    D: x (B, 64, 64, 3) -> conv (B, 32, 32, 64) -> (B, 16, 16, 128) -> (B, 8, 8, 256)
       -> (B, 4, 4, 512) -> linear (B, 1) logit

Both work at any power-of-two size >= 8: the generator always starts at 4x4 with
8*gf_dim channels and halves the channels (down to gf_dim) at each doubling; the
discriminator mirrors it.
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import layers

from . import ops
from .config import ModelConfig

BASE_SIZE = 4          # spatial size of the first generator / last discriminator map
MAX_MULT = 8           # widest layer = 8 * gf_dim (or df_dim)


def num_resolutions(image_size: int) -> int:
    """Number of stride-2 layers between 4x4 and image_size (64 -> 4)."""
    return image_size.bit_length() - 1 - 2


def generator_widths(config: ModelConfig) -> list[int]:
    """Channels of the generator's hidden maps, from 4x4 up (64x64 default: 512, 256, 128, 64)."""
    n = num_resolutions(config.image_size)
    return [config.gf_dim * max(1, MAX_MULT >> i) for i in range(n)]


def discriminator_widths(config: ModelConfig) -> list[int]:
    """Channels of the discriminator's conv maps, from the first (64x64 default: 64, 128, 256, 512)."""
    n = num_resolutions(config.image_size)
    return [config.df_dim * min(MAX_MULT, 1 << i) for i in range(n)]


def build_generator(config: ModelConfig) -> keras.Model:
    """G(z): (B, z_dim) in [-1, 1] -> (B, H, W, C) in [-1, 1]."""
    policy = config.dtype_policy
    widths = generator_widths(config)
    z = keras.Input((config.z_dim,), name="z")
    h = ops.linear(BASE_SIZE * BASE_SIZE * widths[0], "g_h0_lin", dtype=policy)(z)
    h = layers.Reshape((BASE_SIZE, BASE_SIZE, widths[0]), name="g_h0_reshape")(h)  # (B, 4, 4, 8gf)
    h = ops.batch_norm("g_bn0", config.synchronized_bn, dtype=policy)(h)
    h = layers.ReLU(name="g_h0_relu", dtype=policy)(h)
    for i, width in enumerate(widths[1:], start=1):          # each doubles H and W
        h = ops.deconv2d(width, f"g_h{i}", dtype=policy)(h)
        h = ops.batch_norm(f"g_bn{i}", config.synchronized_bn, dtype=policy)(h)
        h = layers.ReLU(name=f"g_h{i}_relu", dtype=policy)(h)
    n = len(widths)
    h = ops.deconv2d(config.channels, f"g_h{n}", dtype=policy)(h)   # (B, H, W, C)
    # The output is float32 even under mixed precision: it feeds losses and images.
    x = layers.Activation("tanh", dtype="float32", name="g_out")(h)
    return keras.Model(z, x, name="generator")


def generator_blocks(generator: keras.Model) -> list[str]:
    """The names of the layers that end G's blocks, from 4x4 up: block i's output is the
    feature map (B, 4 * 2^i, 4 * 2^i, widths[i]) after its ReLU (64x64 default: 4 blocks)."""
    return [layer.name for layer in generator.layers
            if layer.name.startswith("g_h") and layer.name.endswith("_relu")]


def split_generator(generator: keras.Model, block: int) -> tuple[keras.Model, keras.Model]:
    """G split after block ``block`` (generator_blocks): head z -> h and tail h -> G(z), with
    tail(head(z)) = G(z). Both share G's layers and weights (functional sub-models)."""
    names = generator_blocks(generator)
    if not 0 <= block < len(names):
        raise ValueError(f"the generator has blocks 0 to {len(names) - 1}, not {block}")
    h = generator.get_layer(names[block]).output                       # (B, s, s, width)
    return keras.Model(generator.input, h), keras.Model(h, generator.output)


def build_discriminator(config: ModelConfig) -> keras.Model:
    """D(x): (B, H, W, C) in [-1, 1] -> (B, 1) logit (a critic score for the WGAN losses)."""
    policy = config.dtype_policy
    x = keras.Input(config.image_shape, name="image")
    h = x
    for i, width in enumerate(discriminator_widths(config)):   # each halves H and W
        h = ops.conv2d(width, f"d_h{i}_conv", dtype=policy)(h)
        # No batch norm on the first layer (DCGAN), nor anywhere in a WGAN-GP critic:
        # the gradient penalty is per sample and batch norm mixes samples.
        if i > 0 and config.critic_batch_norm:
            h = ops.batch_norm(f"d_bn{i}", config.synchronized_bn, dtype=policy)(h)
        h = ops.lrelu(f"d_h{i}_lrelu", dtype=policy)(h)
    h = layers.Flatten(name="d_flatten")(h)                     # (B, 4 * 4 * 8df)
    logit = ops.linear(1, f"d_h{len(discriminator_widths(config))}_lin", dtype="float32")(h)
    return keras.Model(x, logit, name="discriminator")


def build_models(config: ModelConfig) -> tuple[keras.Model, keras.Model]:
    return build_generator(config), build_discriminator(config)


def sample_z(batch_size: int, z_dim: int, seed) -> tf.Tensor:
    """z ~ U[-1, 1]^z_dim, stateless: the same (seed pair) always gives the same z."""
    return tf.random.stateless_uniform((batch_size, z_dim), seed=seed, minval=-1.0, maxval=1.0)


def standing_statistics(generator: keras.Model, z_batches) -> None:
    """Set every batch norm's moving mean and variance in ``generator`` to the average of
    its batch statistics over ``z_batches`` (each (B, z_dim)): BigGAN's "standing
    statistics" (Brock et al. 2019).

    A moving average of G's weights needs this: those weights never ran in training
    mode, so the statistics G collected do not fit them. With G's statistics the EMA
    generator of a 64k-face run drew samples with a fifth less contrast (per-image std
    0.34 against 0.43 for real faces) and shifted colours.
    """
    norms = [layer for layer in generator.layers
             if isinstance(layer, layers.BatchNormalization)]
    momenta = [layer.momentum for layer in norms]
    try:
        for k, z in enumerate(z_batches):
            for layer in norms:   # batch k gets weight 1/(k+1): a running mean, no reset needed
                layer.momentum = k / (k + 1)
            generator(z, training=True)       # eager: each call reads the momentum anew
    finally:
        for layer, momentum in zip(norms, momenta):
            layer.momentum = momentum
