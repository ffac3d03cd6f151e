"""The DCGAN generator and discriminator (Radford et al. 2015), generalised in size.

Pure model definitions: no I/O, no training logic. For the default 64x64x3 model:

    G: z (B, 100) -> linear -> (B, 4, 4, 512) -> deconv (B, 8, 8, 256) -> (B, 16, 16, 128)
       -> (B, 32, 32, 64) -> deconv + tanh (B, 64, 64, 3)
    D: x (B, 64, 64, 3) -> conv (B, 32, 32, 64) -> (B, 16, 16, 128) -> (B, 8, 8, 256)
       -> (B, 4, 4, 512) -> linear (B, 1) logit

Both work at any power-of-two size >= 8. A layer's width depends on the resolution it
works at, not on its depth, so that a model of one size grows into the next by one block
(progressive growing, Karras et al. 2018; ``fading_models``) and keeps every layer: the
generator starts at 4x4 with 8*gf_dim channels and halves them at each doubling, to
gf_dim at 32x32 (the 64x64 model's last hidden map) and on, to gf_dim/2 at 64x64 in a
128x128 model; the discriminator mirrors it, df_dim at 32x32. Below 64x64 the
discriminator keeps DCGAN-tensorflow's layout (df_dim at its first layer), so that the
small models of earlier versions still load. The 128x128 model:

    G: z -> (B, 4, 4, 512) -> (B, 8, 8, 256) -> ... -> (B, 32, 32, 64) -> (B, 64, 64, 32)
       -> deconv + tanh (B, 128, 128, 3)
    D: x (B, 128, 128, 3) -> (B, 64, 64, 32) -> (B, 32, 32, 64) -> ... -> (B, 4, 4, 512) -> (B, 1)
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


# gf_dim and df_dim are the widths at this model size's 32x32 maps (the layer next to the
# image); larger models halve them at each further doubling.
REFERENCE_SIZE = 64


def generator_widths(config: ModelConfig) -> list[int]:
    """Channels of the generator's hidden maps, from 4x4 up: 8 gf_dim at 4x4, halved at each
    doubling, at least 1 (64x64 default: 512, 256, 128, 64; 128x128: ..., 64, 32)."""
    n = num_resolutions(config.image_size)
    return [max(1, (config.gf_dim * MAX_MULT) >> i) for i in range(n)]


def discriminator_widths(config: ModelConfig) -> list[int]:
    """Channels of the discriminator's conv maps, from the first: doubled at each halving of
    the map, up to 8 df_dim, with df_dim at 32x32 (64x64 default: 64, 128, 256, 512;
    128x128: 32, 64, ..., 512); below 64x64, df_dim at the first layer."""
    n = num_resolutions(config.image_size)
    over = max(1, config.image_size // REFERENCE_SIZE)    # 128x128: the first layer has half
    return [max(1, min(config.df_dim * MAX_MULT, (config.df_dim << i) // over)) for i in range(n)]


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


# --- growing a model to twice its size (progressive growing, Karras et al. 2018) ----------
#
# A model of size S grows from one of size S/2 by a new block at each end: in G a deconv to
# (S/2, S/2) features and the output deconv to (S, S, C); in D a conv from the image to
# (S/2, S/2) features and one to (S/4, S/4). Every other layer works at the same resolution
# with the same widths in both sizes (generator_widths, discriminator_widths), so it keeps
# its weights (grow_weights). While the new blocks are young, each network blends them with
# the smaller model's path at the image's own size, alpha going from 0 to 1 in training:
#
#   G(z) = (1 - alpha) * up2(tanh(rgb(h))) + alpha * G_S(z)     h: G's (S/4, S/4) map
#   D(x) = D_rest((1 - alpha) * lrelu(conv(avgpool2(x))) + alpha * D_S's (S/4, S/4) map)
#
# where rgb and conv are the smaller model's output and input layers. At alpha 0 this is
# exactly the smaller G, upsampled, and the smaller D on the downsampled image.

class Fade(layers.Layer):
    """(1 - alpha) * old + alpha * new: alpha 0 gives old exactly, alpha 1 new exactly.
    alpha is a non-trainable weight (saved in checkpoints) that training sets."""

    def build(self, input_shape):
        self.alpha = self.add_weight(shape=(), initializer="zeros", trainable=False,
                                     name="alpha")

    def call(self, inputs):
        old, new = inputs
        alpha = keras.ops.cast(self.alpha, old.dtype)
        return (1.0 - alpha) * old + alpha * new


def fading_generator(generator: keras.Model) -> tuple[keras.Model, Fade]:
    """(G', its Fade): ``generator`` (of size S, from build_generator) with the path of a
    generator of size S/2 faded in (see above). G' shares every layer of G; the smaller
    model's output layer is new, g_grow_rgb (grow_weights fills it)."""
    policy = generator.get_layer("g_h0_lin").dtype_policy
    channels = generator.output_shape[-1]
    h = generator.get_layer(generator_blocks(generator)[-2]).output       # (B, S/4, S/4, w)
    old = ops.deconv2d(channels, "g_grow_rgb", dtype=policy)(h)           # (B, S/2, S/2, C)
    old = layers.Activation("tanh", dtype="float32", name="g_grow_out")(old)
    old = layers.UpSampling2D(2, interpolation="nearest", dtype="float32", name="g_grow_up")(old)
    fade = Fade(name="g_fade", dtype="float32")
    return keras.Model(generator.input, fade([old, generator.output]),     # (B, S, S, C)
                       name="generator_fading"), fade


def fading_discriminator(discriminator: keras.Model) -> tuple[keras.Model, Fade]:
    """(D', its Fade): ``discriminator`` (of size S) with the path of a discriminator of
    size S/2 faded in (see above). D' shares every layer of D; the smaller model's input
    layer is new, d_grow_conv (grow_weights fills it)."""
    policy = discriminator.get_layer("d_h0_conv").dtype_policy
    names = [layer.name for layer in discriminator.layers]
    new = discriminator.get_layer("d_h1_lrelu").output                    # (B, S/4, S/4, w1)
    x = discriminator.input                                               # (B, S, S, C)
    old = layers.AveragePooling2D(2, name="d_grow_pool", dtype=policy)(x)  # (B, S/2, S/2, C)
    old = ops.conv2d(new.shape[-1], "d_grow_conv", dtype=policy)(old)     # (B, S/4, S/4, w1)
    old = ops.lrelu("d_grow_lrelu", dtype=policy)(old)
    fade = Fade(name="d_fade", dtype=policy)
    h = fade([old, new])
    for layer in discriminator.layers[names.index("d_h1_lrelu") + 1:]:   # D's rest, a chain
        h = layer(h)
    return keras.Model(x, h, name="discriminator_fading"), fade          # (B, 1)


def fading_models(generator: keras.Model, discriminator: keras.Model
                  ) -> tuple[keras.Model, keras.Model, list[Fade]]:
    """(G', D', their two Fade layers): fading_generator and fading_discriminator."""
    faded_g, g_fade = fading_generator(generator)
    faded_d, d_fade = fading_discriminator(discriminator)
    return faded_g, faded_d, [g_fade, d_fade]


def grow_weights(small_generator: keras.Model, small_discriminator: keras.Model,
                 faded_generator: keras.Model, faded_discriminator: keras.Model) -> None:
    """Copy a model of size S/2 into the fading models of size S (fading_models): G's
    layers by name (its output deconv g_h<n> into g_grow_rgb), D's layer i into layer
    i + 1 (its first conv into d_grow_conv). ValueError, with nothing changed, when the
    smaller model is not one the larger grows from (other widths, z_dim, channels)."""
    pairs = []
    last_g = f"g_h{_last_deconv(small_generator)}"
    for layer in small_generator.layers:
        if layer.weights:
            pairs.append((layer, faded_generator.get_layer(
                "g_grow_rgb" if layer.name == last_g else layer.name)))
    for layer in small_discriminator.layers:
        if layer.weights:
            pairs.append((layer, faded_discriminator.get_layer(_next_d_layer(layer.name))))
    for source, target in pairs:
        shapes = [tuple(w.shape) for w in source.weights]
        if shapes != [tuple(w.shape) for w in target.weights]:
            raise ValueError(f"the {source.name} of the smaller model ({shapes}) does not fit "
                             f"{target.name} ({[tuple(w.shape) for w in target.weights]})")
    for source, target in pairs:
        target.set_weights(source.get_weights())


def _last_deconv(generator: keras.Model) -> int:
    """n in G's output layer g_h<n>."""
    return len(generator_blocks(generator))


def _next_d_layer(name: str) -> str:
    """The name that D's layer ``name`` has in a discriminator twice the size: one further
    from the image (d_h2_conv -> d_h3_conv, d_bn1 -> d_bn2, d_h4_lin -> d_h5_lin); the first
    conv becomes the fading path's d_grow_conv."""
    if name == "d_h0_conv":
        return "d_grow_conv"
    prefix, rest = ("d_bn", name[4:]) if name.startswith("d_bn") else ("d_h", name[3:])
    index, _, suffix = rest.partition("_")
    return f"{prefix}{int(index) + 1}{'_' + suffix if suffix else ''}"


def fade_reals(x, alpha):
    """Real images (B, S, S, C) as a growing run shows them to D: (1 - alpha) * up2(avgpool2(x))
    + alpha * x, the detail of the new resolution fading in as G's does (Karras et al. 2018
    blend the reals likewise). Without it D tells the sharp reals from the upsampled fakes
    at once: a 64 -> 128 DCGAN run had D(G(z)) near 0 within 400 steps and G's faces broke."""
    alpha = tf.cast(alpha, x.dtype)
    coarse = tf.nn.avg_pool2d(x, 2, 2, "VALID")                                 # (B, S/2, S/2, C)
    coarse = tf.repeat(tf.repeat(coarse, 2, axis=1), 2, axis=2)                 # (B, S, S, C)
    return (1.0 - alpha) * coarse + alpha * x


def set_fade(fades: list[Fade], alpha) -> None:
    """Set every Fade's alpha (a float or a scalar tensor, clipped to [0, 1])."""
    for fade in fades:
        fade.alpha.assign(tf.clip_by_value(tf.cast(alpha, tf.float32), 0.0, 1.0))


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
