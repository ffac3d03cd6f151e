"""The completion network and its critics (GLCIC, Iizuka et al. 2017), and their config.

Pure model definitions plus the config's JSON; no training logic. For side S and width w
(64x64x3, w = 32 by default):

    net([x, M]): y = M x + (1 - M) fill                         (B, S, S, C)   hole set to fill
      (config.prefill "push-pull": the hole holds instead a smooth interpolation of the
      known pixels, PushPullFill below, so that scattered holes start near their answer)
        concat(y, M)                                             (B, S, S, C+1)
        conv5 w | conv3/2 2w | conv3 2w | conv3/2 4w | conv3 4w x2   -> (B, S/4, S/4, 4w)
        dilated conv3 4w, rates 2, 4, 8, 16 (capped at S/8)           (B, S/4, S/4, 4w)
        conv3 4w x2 | deconv4/2 2w | conv3 2w | deconv4/2 w | conv3 w/2 (B, S, S, w/2)
        conv3 C + tanh = g                                       (B, S, S, C)
      with skips (config.skips): the decoder's conv3 2w also reads enc3's map and its
      conv3 w/2 enc1's (U-Net concatenations at S/2 and S), so fine detail around small
      holes, such as scattered missing pixels, need not pass the S/4 middle.
        out = M x + (1 - M) g                                    known pixels kept exactly
    every hidden layer: batch norm + ReLU, as in GLCIC.

    critic([x, offsets]): a global and a local branch, GLCIC's two discriminators joined:
        global: x (B, S, S, C) -> conv5/2 ... down to 4x4 -> linear 8 w_c
        local:  the S/2 x S/2 window of x at offsets (B, 2) (top, left)
                -> conv5/2 ... down to 4x4 -> linear 8 w_c
        concat (B, 16 w_c) -> linear -> one score (B, 1)
    Layer norm (per example), never batch norm: a WGAN-GP penalty is per example.

The rate-16 dilation of GLCIC (at 256x256, a 64x64 middle) would see only padding in
the 16x16 middle of a 64x64 image, so rates are capped at S/8 (64x64: 2, 4, 8, 8).
"""

from __future__ import annotations

import dataclasses

import keras
import tensorflow as tf
from keras import layers

from .. import ops
from ..config import UNSCALED_POLICIES, SavedConfig, load_kind_config, save_kind_config
from .measurements import DEFAULT_MEASUREMENT, Measurement, make_measurement

CONFIG_KIND = "completion-net"
# What the network's input holds in the hole: the measurement's constant fill (GLCIC), or
# the push-pull interpolation of the known pixels (PushPullFill).
PREFILLS = ("constant", "push-pull")
DILATION_RATES = (2, 4, 8, 16)
MIN_SIZE = 16
CRITIC_BASE = 4            # both critic branches stop at 4x4
CRITIC_FEATURES = 8        # each branch ends in 8 * critic_width features
# The net's hidden layers may compute in bfloat16 (variables stay float32); the critic,
# whose gradient penalty differentiates twice, and the composite stay float32. float16
# would need loss scaling, which the completion trainer does not do.


class CompletionConfigError(ValueError):
    """A completion-network config that cannot describe a valid network."""


@dataclasses.dataclass(frozen=True)
class CompletionConfig(SavedConfig):
    """Everything needed to rebuild the networks, and the measurement they were trained with.

    patch_size / fill / drop_prob: None means the measurement's default (measurements.py).
    """
    ERROR = CompletionConfigError
    WHAT = "completion-net"
    LEGACY = {"skips": False, "prefill": "constant"}   # what files from before these meant

    image_size: int = 64          # a power of two >= 16
    channels: int = 3             # 1 or 3
    width: int = 32               # completion net: w, 2w, 4w channels (GLCIC: 64 at 256x256)
    skips: bool = True            # U-Net concatenations from the encoder at S/2 and S
    prefill: str = "push-pull"    # what the hole holds at the input: see PREFILLS
    critic_width: int = 32        # critics: w_c, 2 w_c, ... 8 w_c channels
    measurement: str = DEFAULT_MEASUREMENT
    patch_size: int | None = None
    fill: float | None = None
    drop_prob: float | None = None
    dtype_policy: str = "float32"  # training precision of the net: or "mixed_bfloat16"

    def __post_init__(self):
        size = self.image_size
        if not isinstance(size, int) or size < MIN_SIZE or size & (size - 1):
            raise CompletionConfigError(f"image_size must be a power of two >= {MIN_SIZE}, got {size!r}")
        if self.channels not in (1, 3):
            raise CompletionConfigError(f"channels must be 1 or 3, got {self.channels!r}")
        for name in ("width", "critic_width"):
            if getattr(self, name) < 1:
                raise CompletionConfigError(f"{name} must be positive, got {getattr(self, name)!r}")
        if not isinstance(self.skips, bool):
            raise CompletionConfigError(f"skips must be true or false, got {self.skips!r}")
        if self.prefill not in PREFILLS:
            raise CompletionConfigError(f"prefill must be one of {', '.join(PREFILLS)}, "
                                        f"got {self.prefill!r}")
        if self.dtype_policy not in UNSCALED_POLICIES:
            raise CompletionConfigError(f"dtype_policy must be one of {', '.join(UNSCALED_POLICIES)}, "
                                        f"got {self.dtype_policy!r}")
        self.make_measurement()   # raises MeasurementError for bad measurement settings

    # What the network's weights are made for besides the image size: the net is fully
    # convolutional, so its weights fit any size (the critic's and the measurement are
    # not the net's).
    NETWORK_FIELDS = ("channels", "width", "skips", "prefill")

    def network_differences(self, other: CompletionConfig) -> list[str]:
        """"name value instead of value" for each setting where ``other``'s network differs
        from this one's in any way but its image size; [] when its weights fit this one."""
        return [f"{name} {getattr(other, name)} instead of {getattr(self, name)}"
                for name in self.NETWORK_FIELDS if getattr(other, name) != getattr(self, name)]

    @property
    def window(self) -> int:
        """Side of the local critic's window: S / 2."""
        return self.image_size // 2

    def make_measurement(self) -> Measurement:
        return make_measurement(self.measurement, self.image_size, patch_size=self.patch_size,
                                fill=self.fill, drop_prob=self.drop_prob)


def save_completion_config(config: CompletionConfig, directory: str, extra: dict | None = None) -> str:
    """Write ``config.json`` = {"kind": "completion-net", "completion_net": {...}, **extra}."""
    return save_kind_config(directory, CONFIG_KIND, "completion_net", config, extra)


def load_completion_config(directory: str) -> tuple[CompletionConfig, dict]:
    """(config, the rest of the file) from ``directory/config.json``.

    FileNotFoundError if there is none; CompletionConfigError if it is not a completion
    network's (a DCGAN run's config, say).
    """
    return load_kind_config(directory, CompletionConfig, CONFIG_KIND, "completion_net",
                            writer="dcgan-train-completion")


# --- layers ------------------------------------------------------------------------------

class FillHole(layers.Layer):
    """[x, M] -> M x + (1 - M) fill: the network never sees what is under the hole."""

    def __init__(self, fill: float, **kwargs):
        super().__init__(**kwargs)
        self.fill = float(fill)

    def call(self, x, mask):
        return mask * x + (1.0 - mask) * self.fill


class PushPullFill(layers.Layer):
    """[x, M] -> M x + (1 - M) f, f a smooth interpolation of the known pixels of x.

    Push-pull (the pyramid fill of Gortler et al.'s Lumigraph, 1996): average-pool M x
    and M by 2 down to 1x1; from the coarsest level up, a cell with any known pixel takes
    the mean of its known pixels, an empty one the bilinear upsampling of the level
    below. Parameter-free, a few microseconds an image; on 80 %-missing scattered pixels
    it alone is about as good as OpenCV's Navier-Stokes (25.0 against 24.5 dB hole PSNR
    on 500 validation faces). Nothing under the hole is read. An image with no known
    pixel gets 0 (mid-gray).
    """

    def call(self, x, mask):
        sums, weights = [x * mask], [mask]                       # level 0: (B, S, S, C), (B, S, S, 1)
        while sums[-1].shape[1] > 1:                             # down to (B, 1, 1, .)
            sums.append(tf.nn.avg_pool2d(sums[-1], 2, 2, "VALID"))
            weights.append(tf.nn.avg_pool2d(weights[-1], 2, 2, "VALID"))
        fill = None
        for total, weight in zip(reversed(sums), reversed(weights)):
            own = total / tf.maximum(weight, 1e-6)               # the mean of the known pixels
            if fill is None:
                fill = own
            else:
                up = tf.image.resize(fill, tf.shape(total)[1:3], "bilinear")
                fill = tf.where(weight > 0, own, up)
        return mask * x + (1.0 - mask) * fill


class Composite(layers.Layer):
    """[x, M, g] -> M x + (1 - M) g."""

    def call(self, x, mask, generated):
        return mask * x + (1.0 - mask) * generated


class CropWindows(layers.Layer):
    """[x (B, S, S, C), offsets (B, 2) int32 (top, left)] -> (B, n, n, C), per-example windows.

    A gather, so gradients reach the full image (the gradient penalty needs them).
    """

    def __init__(self, size: int, **kwargs):
        super().__init__(**kwargs)
        self.size = size

    def call(self, x, offsets):
        span = tf.range(self.size)[None, :]                             # (1, n)
        rows = tf.cast(offsets[:, :1], tf.int32) + span                # (B, n)
        cols = tf.cast(offsets[:, 1:], tf.int32) + span                # (B, n)
        x = tf.gather(x, rows, axis=1, batch_dims=1)                    # (B, n, S, C)
        return tf.gather(x, cols, axis=2, batch_dims=1)                 # (B, n, n, C)

    def compute_output_shape(self, x_shape, offsets_shape):
        return (x_shape[0], self.size, self.size, x_shape[-1])


def _init():
    return keras.initializers.RandomNormal(stddev=ops.INIT_STDDEV)


def _conv_bn_relu(h, filters, kernel, name, *, strides=1, dilation=1, transpose=False,
                  synchronized=False, dtype=None):
    conv = layers.Conv2DTranspose if transpose else layers.Conv2D
    h = conv(filters, kernel, strides=strides, dilation_rate=dilation, padding="same",
             kernel_initializer=_init(), name=name, dtype=dtype)(h)
    h = ops.batch_norm(f"{name}_bn", synchronized, dtype=dtype)(h)
    return layers.ReLU(name=f"{name}_relu", dtype=dtype)(h)


def dilation_rates(image_size: int) -> tuple[int, ...]:
    """GLCIC's rates 2, 4, 8, 16, each capped at S/8 (half the S/4 middle map)."""
    cap = max(1, image_size // 8)
    return tuple(min(r, cap) for r in DILATION_RATES)


def build_completion_net(config: CompletionConfig, synchronized_bn: bool = False,
                         dtype_policy: str | None = None) -> keras.Model:
    """net([x, M]) -> completed images (B, S, S, C) in [-1, 1]; see the module docstring.

    dtype_policy overrides config.dtype_policy (loaders build float32 nets for inference).
    """
    w, C = config.width, config.channels
    policy = dtype_policy or config.dtype_policy
    x = keras.Input(config.image_shape, name="image")
    mask = keras.Input((config.image_size, config.image_size, 1), name="mask")
    if config.prefill == "push-pull":
        y = PushPullFill(name="push_pull")(x, mask)                           # (B, S, S, C)
    else:
        y = FillHole(config.make_measurement().fill, name="fill_hole")(x, mask)
    h = layers.Concatenate(name="with_mask")([y, mask])                       # (B, S, S, C+1)

    def block(h, filters, kernel, name, **kw):
        return _conv_bn_relu(h, filters, kernel, name, synchronized=synchronized_bn,
                             dtype=policy, **kw)

    h = full = block(h, w, 5, "enc1")                                          # (B, S, S, w)
    h = block(h, 2 * w, 3, "enc2", strides=2)                                  # (B, S/2, S/2, 2w)
    h = half = block(h, 2 * w, 3, "enc3")
    h = block(h, 4 * w, 3, "enc4", strides=2)                                  # (B, S/4, S/4, 4w)
    h = block(h, 4 * w, 3, "enc5")
    h = block(h, 4 * w, 3, "enc6")
    for i, rate in enumerate(dilation_rates(config.image_size), start=1):
        h = block(h, 4 * w, 3, f"dilated{i}", dilation=rate)
    h = block(h, 4 * w, 3, "mid1")
    h = block(h, 4 * w, 3, "mid2")
    h = block(h, 2 * w, 4, "dec1", strides=2, transpose=True)                 # (B, S/2, S/2, 2w)
    if config.skips:
        h = layers.Concatenate(name="skip_half", dtype=policy)([h, half])     # (B, S/2, S/2, 4w)
    h = block(h, 2 * w, 3, "dec2")
    h = block(h, w, 4, "dec3", strides=2, transpose=True)                     # (B, S, S, w)
    if config.skips:
        h = layers.Concatenate(name="skip_full", dtype=policy)([h, full])     # (B, S, S, 2w)
    h = block(h, max(1, w // 2), 3, "dec4")
    g = layers.Conv2D(C, 3, padding="same", kernel_initializer=_init(), name="out_conv",
                      dtype=policy)(h)
    g = layers.Activation("tanh", name="out_tanh", dtype="float32")(g)        # (B, S, S, C)
    out = Composite(name="composite")(x, mask, g)
    return keras.Model([x, mask], out, name="completion_net")


def _critic_branch(h, config: CompletionConfig, prefix: str):
    """Stride-2 5x5 convs from h's side down to 4x4, then linear 8 w_c features."""
    side, i = h.shape[1], 0
    while side > CRITIC_BASE:
        h = ops.conv2d(config.critic_width * min(8, 1 << i), f"{prefix}_h{i}_conv")(h)
        if i > 0:
            h = layers.LayerNormalization(axis=-1, name=f"{prefix}_ln{i}")(h)
        h = ops.lrelu(f"{prefix}_h{i}_lrelu")(h)
        side, i = side // 2, i + 1
    h = layers.Flatten(name=f"{prefix}_flatten")(h)
    return ops.linear(CRITIC_FEATURES * config.critic_width, f"{prefix}_features")(h)


def build_critic(config: CompletionConfig) -> keras.Model:
    """critic([x, offsets]) -> (B, 1) score; offsets (B, 2) int32 = the local window's top-left."""
    x = keras.Input(config.image_shape, name="image")
    offsets = keras.Input((2,), dtype="int32", name="window_offsets")
    local = CropWindows(config.window, name="local_window")(x, offsets)       # (B, S/2, S/2, C)
    features = layers.Concatenate(name="joint_features")(
        [_critic_branch(x, config, "global"), _critic_branch(local, config, "local")])
    score = ops.linear(1, "score")(features)                                  # (B, 1)
    return keras.Model([x, offsets], score, name="completion_critic")


def hole_window_offsets(masks, window: int) -> tf.Tensor:
    """(B, 2) int32 top-left of the window x window square centred on each hole's bounding box.

    masks (B, S, S, 1), 1 = known. The centre is ((first + last + 1) // 2) of the rows and
    of the columns that hold a missing pixel; the image centre when nothing is missing;
    the window is then shifted to lie inside the image.
    """
    missing = tf.convert_to_tensor(masks)[..., 0] < 0.5                       # (B, S, S)
    size = tf.shape(missing)[1]

    def centre(lines):                                                       # (B, S) bool
        ints = tf.cast(lines, tf.int32)
        first = tf.argmax(ints, axis=1, output_type=tf.int32)
        last = size - 1 - tf.argmax(tf.reverse(ints, [1]), axis=1, output_type=tf.int32)
        return tf.where(tf.reduce_any(lines, axis=1), (first + last + 1) // 2, size // 2)

    rows, cols = tf.reduce_any(missing, axis=2), tf.reduce_any(missing, axis=1)
    offsets = tf.stack([centre(rows), centre(cols)], axis=1) - window // 2    # (B, 2)
    return tf.clip_by_value(offsets, 0, size - window)
