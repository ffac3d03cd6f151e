"""Masks for image completion: which pixels of each image are known.

Convention everywhere in this project: a mask is float32 (H, W, 1) with **1 = known**
and **0 = missing**, one mask per image (a batch of masks is (N, H, W, 1); a single
shared mask is only used when the user gives one mask file for all images).

Kinds (``MaskSpec``: a kind and its parameters), for an image of side S:

    center  the square rows and columns [int(S*scale), int(S*(1-scale))) is missing, as in
            the original completion tool: scale 0.25 hides the centre square of side S/2
            (a quarter of the pixels); scale 0 hides everything, 0.5 nothing.
    random  round(fraction * S*S) pixels missing, drawn per image from (seed, image index).
            Default fraction 0.8 (80% missing), the "random" experiment of Yeh et al.
            2016; the original tool hid 20% (--fraction 0.2).
    left    the left half (columns [0, S//2)) is missing.
    full    nothing is missing (G(z) is fitted to the whole image: a GAN inversion).
    grid    only every 4th pixel in both directions is known (rows and columns 0, 4, 8...).
    lowres  no pixel is known as such; what is known is the image averaged over 8x8
            blocks. The mask is all zeros and ``Masks.lowres_factor`` is 8: the completion
            then compares 8x8 average-pooled G(z) with the 8x8 average-pooled image.
    patch   one k x k hole per image at a random position drawn from (seed, image index),
            k = round(28 / 64 * S): the holes of the completion network's block-patch
            measurement (it draws them with ``patch_indicator``).
    strokes free-form damage: 2 to 5 brush strokes per image, each a chain of 5 straight
            segments of random length (8-22 % of the side) and direction (turning by at
            most 1 radian at each joint), starting in the middle 70 % of the image and
            painted with a round brush 6-16 % of the side wide, drawn from (seed, image
            index) (``strokes_indicator``; free-form masks as in DeepFill v2). Coverage:
            3 to 50 % of the pixels missing (4.5-45 % over 2,000 64x64 masks, 21 % on
            average; tests/test_completion.py checks the range).
    blocks  several holes: 2 to 4 squares of side S/8 to S/4 each (8 to 16 pixels at
            64x64), placed anywhere and free to overlap, drawn from (seed, image index)
            (``blocks_indicator``; the completion network's "mix" measurement draws them
            too).
    file    mask images read by ``MaskFile``: one file for every image,
            or a folder holding one mask per image with the image's file stem
            (``masks/face01.png`` for ``photos/face01.jpg``). **White = known, black =
            missing** (the same convention as the mask values, so a mask written with
            ``images.save_image(path, (mask * 255).astype(np.uint8))`` reads back
            unchanged); ``invert=True`` reads the opposite convention (white = hole, as in
            OpenCV's inpaint and LaMa). Read as grayscale (EXIF orientation applied) and
            thresholded at 50% (>= 128 is white).

Mask files of another size than the image (``fit_mask``): a mask for the model's
aligned S x S images is resized (nearest neighbour) with a warning, since aligned masks
are often drawn at another resolution. A mask drawn on a photograph (``photo=True``,
a spec's ``in_photo``) must match the photo: it is resized with a warning only when its aspect
ratio is the photo's within 1% (the same drawing at another resolution), and refused
otherwise (stretched, it would hide another region than the one drawn). Each warning is
given once per mask file and size, not once per image sharing the mask.
"""

from __future__ import annotations

import dataclasses
import logging
import os

import numpy as np
from PIL import Image

from . import images

MASK_TYPES = ("center", "random", "left", "full", "grid", "lowres", "patch", "strokes", "blocks",
              "file")
DEFAULT_KIND = "center"
CENTER_SCALE = 0.25       # center: hide [S*scale, S*(1-scale)) in rows and columns
RANDOM_FRACTION = 0.8     # random: fraction of pixels missing (Yeh et al.'s experiment)
GRID_STEP = 4             # grid: keep every 4th pixel in both directions
LOWRES_FACTOR = 8         # lowres: 8x8 block averages are known
PATCH_REFERENCE = (64, 28)  # patch: k = 28 at 64x64, scaled with S
# strokes: 2-5 brush strokes of 5 segments each, each stroke one width (see strokes_indicator)
STROKES, STROKE_SEGMENTS = (2, 5), 5
STROKE_START = (0.15, 0.85)    # where a stroke starts, as a fraction of the side
STROKE_LENGTH = (0.08, 0.22)   # segment length, as a fraction of the side
STROKE_WIDTH = (0.06, 0.16)    # brush width, as a fraction of the side
STROKE_TURN = 1.0              # largest change of direction between segments, radians
ASPECT_TOLERANCE = 0.01   # photo masks: the largest relative aspect-ratio difference resized

log = logging.getLogger(__name__)


class MaskError(ValueError):
    """A mask that cannot be made or read; the message names the file or the setting."""


@dataclasses.dataclass(frozen=True)
class Masks:
    """Per-image masks and how the contextual loss must read them.

    values: (N, H, W, 1) float32, 1 = known, 0 = missing.
    lowres_factor: None for pixel masks; f for 'lowres', where the contextual loss compares
        f x f average-pooled images instead of masked pixels (values are then all zero).
    """
    values: np.ndarray
    kind: str
    lowres_factor: int | None = None

    def __len__(self) -> int:
        return len(self.values)

    def batch(self, start: int, stop: int) -> np.ndarray:
        """The masks of images [start, stop): (stop - start, H, W, 1)."""
        return self.values[start:stop]


def lowres_factor_of(kind: str | None) -> int | None:
    """f for the 'lowres' kind (its f x f block averages are what is known), else None:
    whether a kind's masks know any pixel as such, found without making them."""
    return LOWRES_FACTOR if kind == "lowres" else None


def center_mask(size: int, scale: float = CENTER_SCALE) -> np.ndarray:
    """(S, S, 1): rows and columns [int(S*scale), int(S*(1-scale))) missing."""
    lo, hi = int(size * scale), int(size * (1.0 - scale))
    mask = np.ones((size, size, 1), np.float32)
    mask[lo:hi, lo:hi] = 0.0
    return mask


def random_mask(size: int, fraction: float = RANDOM_FRACTION, seed=(0, 0)) -> np.ndarray:
    """(S, S, 1) with exactly round(fraction * S*S) missing pixels chosen by ``seed``."""
    missing = np.random.default_rng(seed).permutation(size * size)[:round(fraction * size * size)]
    mask = np.ones(size * size, np.float32)
    mask[missing] = 0.0
    return mask.reshape(size, size, 1)


def left_mask(size: int) -> np.ndarray:
    mask = np.ones((size, size, 1), np.float32)
    mask[:, :size // 2] = 0.0
    return mask


def grid_mask(size: int, step: int = GRID_STEP) -> np.ndarray:
    mask = np.zeros((size, size, 1), np.float32)
    mask[::step, ::step] = 1.0
    return mask


def default_patch_size(size: int) -> int:
    """The patch side k for images of side S: round(28 / 64 * S), at least 1 (64 -> 28, 32 -> 14)."""
    return max(1, round(PATCH_REFERENCE[1] / PATCH_REFERENCE[0] * size))


def patch_indicator(count, size: int, k: int, seed):
    """(count, S, S, 1) float32 tensor: 1 inside one k x k square per image, its top-left
    corner uniform in [0, S-k]^2, drawn from ``seed`` ((2,) ints). TensorFlow ops only, so
    that the completion network's measurements draw the same squares inside tf.data."""
    import tensorflow as tf        # here: the aligner's worker processes never start TensorFlow
    corner = tf.random.stateless_uniform((count, 2), seed, minval=0, maxval=size - k + 1,
                                         dtype=tf.int32)                   # (B, 2): top, left
    grid = tf.range(size)[None, :]                                         # (1, S)
    rows = (grid >= corner[:, :1]) & (grid < corner[:, :1] + k)            # (B, S)
    cols = (grid >= corner[:, 1:]) & (grid < corner[:, 1:] + k)            # (B, S)
    inside = rows[:, :, None] & cols[:, None, :]                           # (B, S, S)
    return tf.cast(inside, tf.float32)[..., None]


def boxes_indicator(count, size: int, sides, seed, boxes=(1, 1)):
    """(count, S, S, 1) float32 tensor: 1 inside ``boxes`` (lo, hi) squares per image, their
    number, sides (``sides``: lo, hi pixels) and places drawn uniformly, each square inside
    the image, from ``seed`` ((2,) ints); TensorFlow ops only."""
    import tensorflow as tf
    most = boxes[1]
    u = tf.random.stateless_uniform((count, most, 4), seed)                   # (B, N, 4)
    k = tf.minimum(tf.floor(sides[0] + u[..., 0] * (sides[1] - sides[0] + 1)),
                   float(sides[1]))                                          # (B, N)
    top = tf.floor(u[..., 1:3] * (size - k[..., None] + 1))                  # (B, N, 2)
    number = boxes[0] + tf.floor(u[:, :1, 3] * (boxes[1] - boxes[0] + 1))    # (B, 1)
    used = tf.range(most, dtype=tf.float32)[None, :] < number                # (B, N)
    grid = tf.range(size, dtype=tf.float32)[None, None, :]                   # (1, 1, S)
    rows = (grid >= top[..., :1]) & (grid < top[..., :1] + k[..., None])      # (B, N, S)
    cols = (grid >= top[..., 1:]) & (grid < top[..., 1:] + k[..., None])      # (B, N, S)
    inside = rows[..., :, None] & cols[..., None, :] & used[..., None, None]  # (B, N, S, S)
    return tf.cast(tf.reduce_any(inside, axis=1), tf.float32)[..., None]


BLOCKS = (2, 4)          # blocks: how many squares per image (inclusive)


def blocks_indicator(count, size: int, seed):
    """(count, S, S, 1) float32 tensor: 1 inside 2 to 4 squares of side S/8 to S/4 per
    image, drawn from ``seed`` ((2,) ints); TensorFlow ops only."""
    return boxes_indicator(count, size, (max(1, size // 8), max(1, size // 4)), seed,
                           boxes=BLOCKS)


# The kinds sample_masks draws from (the encoder is trained on all of them): every kind
# that makes its own pixel masks, with MaskSpec's default parameters.
SAMPLED_KINDS = ("center", "left", "random", "patch", "grid", "full")


def sample_masks(seeds, size: int, kinds=SAMPLED_KINDS):
    """(B, S, S, 1) float32 tensor of masks (1 = known), image i's drawn from ``seeds[i]``
    ((B, 2) ints) alone: a kind uniform among ``kinds``, then its own randomness (random:
    exactly round(RANDOM_FRACTION * S*S) pixels missing; patch: a k x k hole placed as
    patch_indicator places it). TensorFlow ops only, stateless: for tf.data and training
    steps. The numpy masks above stay the ones completion uses."""
    import tensorflow as tf
    unknown = sorted(set(kinds) - set(SAMPLED_KINDS))
    if unknown or not kinds:
        raise MaskError(f"cannot sample masks of kinds {unknown or kinds}; choose from "
                        f"{', '.join(SAMPLED_KINDS)}")
    missing = round(RANDOM_FRACTION * size * size)

    def random_pixels(seed):                               # exactly `missing` pixels hidden
        u = tf.random.stateless_uniform((size * size,), seed)
        if not missing:
            return tf.ones((size, size, 1))
        threshold = tf.sort(u)[missing - 1]
        return tf.reshape(tf.cast(u > threshold, tf.float32), (size, size, 1))

    makers = {"center": lambda seed: tf.constant(center_mask(size)),
              "left": lambda seed: tf.constant(left_mask(size)),
              "grid": lambda seed: tf.constant(grid_mask(size)),
              "full": lambda seed: tf.ones((size, size, 1)),
              "random": random_pixels,
              "patch": lambda seed: 1.0 - patch_indicator(1, size, default_patch_size(size), seed)[0]}
    branches = [makers[kind] for kind in kinds]

    def one(seed):                                         # (2,) -> (S, S, 1)
        pair = tf.random.experimental.stateless_split(seed, 2)
        which = tf.random.stateless_uniform((), pair[0], 0, len(branches), tf.int32)
        return tf.switch_case(which, [lambda f=f: f(pair[1]) for f in branches])

    return tf.map_fn(one, tf.convert_to_tensor(seeds, tf.int64),
                     fn_output_signature=tf.TensorSpec((size, size, 1), tf.float32))


def patch_mask(size: int, k: int, seed) -> np.ndarray:
    """(S, S, 1): one k x k hole placed by ``seed`` ((2,) ints), as patch_indicator draws it."""
    return 1.0 - patch_indicator(1, size, k, np.asarray(seed, np.int64))[0].numpy()


def strokes_indicator(count, size: int, seed):
    """(count, S, S, 1) float32 tensor: 1 on the brush strokes of each image, drawn from
    ``seed`` ((2,) ints); TensorFlow ops only, so that it also runs inside tf.data."""
    import math

    import tensorflow as tf
    (few, M), K, S = STROKES, STROKE_SEGMENTS, float(size)
    u = tf.random.stateless_uniform((count, M, K + 5), seed)                  # (B, M, K+5)
    strokes = few + tf.cast(tf.floor(u[:, :1, 0] * (M - few + 1)), tf.int32)  # (B, 1): few..M
    active = tf.range(M)[None, :] < strokes                                  # (B, M)
    start = (STROKE_START[0] + u[:, :, 1:3] * (STROKE_START[1] - STROKE_START[0])) * S  # (B, M, 2)
    width = (STROKE_WIDTH[0] + u[:, :, 3] * (STROKE_WIDTH[1] - STROKE_WIDTH[0])) * S   # (B, M)
    heading = u[:, :, 4:5] * 2 * math.pi + tf.cumsum(
        (u[:, :, 5:] * 2 - 1) * STROKE_TURN, axis=2)                         # (B, M, K)
    v = tf.random.stateless_uniform((count, M, K), tf.random.experimental.stateless_fold_in(seed, 1))
    length = (STROKE_LENGTH[0] + v * (STROKE_LENGTH[1] - STROKE_LENGTH[0])) * S   # (B, M, K)
    # Segment ends, rows and columns apart: a trailing axis of 2 makes every op slow.
    rows = start[:, :, :1] + tf.concat([tf.zeros_like(length[..., :1]),
                                        tf.cumsum(tf.sin(heading) * length, axis=2)], 2)
    cols = start[:, :, 1:] + tf.concat([tf.zeros_like(length[..., :1]),
                                        tf.cumsum(tf.cos(heading) * length, axis=2)], 2)
    ar, ac = rows[..., :-1, None], cols[..., :-1, None]                     # (B, M, K, 1)
    dr, dc = rows[..., 1:, None] - ar, cols[..., 1:, None] - ac            # (B, M, K, 1)
    grid = tf.range(S) + 0.5                                                # pixel centres
    pr = tf.reshape(tf.repeat(grid, size), (1, 1, 1, -1))                 # (1, 1, 1, SS)
    pc = tf.reshape(tf.tile(grid, [size]), (1, 1, 1, -1))
    t = tf.clip_by_value(((pr - ar) * dr + (pc - ac) * dc)
                         / tf.maximum(dr * dr + dc * dc, 1e-6), 0.0, 1.0)   # (B, M, K, SS)
    dist2 = tf.square(pr - ar - t * dr) + tf.square(pc - ac - t * dc)      # squared distance
    radius2 = tf.square(width / 2)[:, :, None, None]                       # (B, M, 1, 1)
    on = (dist2 <= radius2) & active[:, :, None, None]
    inside = tf.reduce_any(on, axis=[1, 2])                                  # (B, SS)
    return tf.reshape(tf.cast(inside, tf.float32), (count, size, size, 1))


def blocks_mask(size: int, seed) -> np.ndarray:
    """(S, S, 1): the squares of ``seed`` ((2,) ints) missing."""
    return 1.0 - blocks_indicator(1, size, np.asarray(seed, np.int64))[0].numpy()


def strokes_mask(size: int, seed) -> np.ndarray:
    """(S, S, 1): the brush strokes of ``seed`` ((2,) ints) missing."""
    return 1.0 - strokes_indicator(1, size, np.asarray(seed, np.int64))[0].numpy()


@dataclasses.dataclass(frozen=True)
class MaskSpec:
    """Which pixels of each image of a run are missing: a kind, its parameters and the
    image side S (see the module docstring for the kinds).

    ``for_index(i)`` is the mask of the run's i-th image (random and patch masks depend on
    (seed, i) alone, not on batching); ``for_image(path, index, shape)`` reads it from the
    mask files instead for kind 'file'; ``masks(count)`` stacks the first ``count``.
    file: kind 'file': one mask image for every image, or a folder of them (MaskFile);
    invert: white = missing; in_photo: the files are drawn on the photographs (``shape``
    is then the photo's (H, W)), not on the aligned S x S faces.
    Raises MaskError, naming the setting, for a kind or parameter that cannot be used.
    """
    kind: str = DEFAULT_KIND
    size: int = 64
    scale: float = CENTER_SCALE
    fraction: float = RANDOM_FRACTION
    seed: int = 0
    patch_size: int | None = None       # patch: k; None = default_patch_size(size)
    file: str | None = None
    invert: bool = False
    in_photo: bool = False

    def __post_init__(self):
        if self.kind not in MASK_TYPES:
            raise MaskError(f"unknown mask type {self.kind!r}; choose from {', '.join(MASK_TYPES)}")
        # Each kind's own parameters are checked; the others are not used.
        if self.kind == "center" and not 0.0 <= self.scale <= 0.5:
            raise MaskError(f"center scale must be in [0, 0.5], got {self.scale!r}")
        if self.kind == "random" and not 0.0 <= self.fraction <= 1.0:
            raise MaskError(f"random mask fraction must be in [0, 1], got {self.fraction!r}")
        if self.kind == "lowres" and self.size % LOWRES_FACTOR:
            raise MaskError(f"lowres masks need an image size divisible by {LOWRES_FACTOR}, "
                            f"got {self.size}")
        if self.kind == "patch" and not 1 <= self.k <= self.size:
            raise MaskError(f"patch size must be in [1, {self.size}], got {self.patch_size!r}")
        if (self.kind == "file") != (self.file is not None):
            raise MaskError("mask type 'file' needs a mask file, and a mask file needs mask type 'file'"
                            if self.kind == "file" else
                            f"mask type {self.kind!r} makes its masks; it cannot read a mask file")

    @classmethod
    def create(cls, kind: str | None = None, size: int = 64, **settings) -> "MaskSpec":
        """A spec from settings where None means the default: kind None is 'file' when a
        mask file is given, else DEFAULT_KIND."""
        given = {k: v for k, v in settings.items() if v is not None}
        if kind is None:
            kind = "file" if given.get("file") is not None else DEFAULT_KIND
        return cls(kind, size, **given)

    @property
    def k(self) -> int:
        """The patch side (patch kind)."""
        return default_patch_size(self.size) if self.patch_size is None else self.patch_size

    @property
    def lowres_factor(self) -> int | None:
        """f for 'lowres' (the contextual loss compares f x f block averages), else None."""
        return lowres_factor_of(self.kind)

    def for_index(self, i: int) -> np.ndarray:
        """(S, S, 1) float32: the mask of the run's i-th image, for the kinds that make masks."""
        S = self.size
        if self.kind == "random":
            return random_mask(S, self.fraction, seed=(self.seed, i))
        if self.kind == "patch":
            return patch_mask(S, self.k, (self.seed, i))
        if self.kind == "strokes":
            return strokes_mask(S, (self.seed, i))
        if self.kind == "blocks":
            return blocks_mask(S, (self.seed, i))
        if self.kind == "center":
            return center_mask(S, self.scale)
        if self.kind == "left":
            return left_mask(S)
        if self.kind == "grid":
            return grid_mask(S)
        if self.kind in ("full", "lowres"):      # lowres: no pixel known as such
            return np.full((S, S, 1), self.kind == "full", np.float32)
        raise MaskError("file masks are read for each image (for_image), not made")

    def reader(self) -> "MaskFile | None":
        """The opened mask file or folder of a 'file' spec (None for the other kinds):
        open it once per run and pass it to ``for_image``. MaskError if it is missing."""
        if self.kind != "file":
            return None
        return MaskFile(self.file, None if self.in_photo else self.size, invert=self.invert)

    def for_image(self, path: str, index: int, shape=None, reader: "MaskFile | None" = None):
        """(H, W, 1) float32: the mask of ``path``, the run's ``index``-th image. Kind 'file'
        reads it through ``reader`` (from ``reader()``): fitted to the aligned S x S image,
        or with ``in_photo`` to the photo's ``shape`` (H, W); other kinds: for_index(index).
        MaskError naming the image when its mask is missing or does not fit."""
        if self.kind != "file":
            return self.for_index(index)
        return reader.for_image(path, shape if self.in_photo else None)

    def masks(self, count: int) -> Masks:
        """The masks of the run's first ``count`` images."""
        return self.stack([self.for_index(i) for i in range(count)])

    def stack(self, values) -> Masks:
        """Masks of this spec from per-image masks (S, S, 1)."""
        S = self.size
        stacked = np.stack(values) if len(values) else np.zeros((0, S, S, 1), np.float32)
        return Masks(stacked.astype(np.float32), self.kind, self.lowres_factor)


# --- mask files ------------------------------------------------------------------------

def read_gray(path: str) -> np.ndarray:
    """A mask file as uint8 (h, w) grayscale at its own size; MaskError naming the file."""
    try:
        return images.load_image(path, size=None, channels=1)[..., 0]
    except images.ImageReadError as e:
        raise MaskError(f"mask {e}") from e


def fit_mask(gray: np.ndarray, path: str, size, *, invert: bool = False, photo: bool = False,
             warned: set | None = None) -> np.ndarray:
    """(H, W, 1) float32 from the uint8 grayscale ``gray`` read from ``path``: white (>= 128)
    = known unless ``invert``.

    ``size`` is S for S x S, or (H, W). A mask of another size is resized (nearest) with a
    warning; with ``photo`` (a mask drawn on a photo of that size) only if the aspect
    ratios agree within ASPECT_TOLERANCE, else MaskError. ``warned``: a set of warnings
    already given, so that a shared mask is reported once, not once per image.
    """
    h, w = (size, size) if isinstance(size, int) else size
    mh, mw = gray.shape
    if (mh, mw) != (h, w):
        target = f"the photo's {w}x{h}" if photo else f"the model's {w}x{h}"
        if photo and abs((mw / mh) / (w / h) - 1.0) > ASPECT_TOLERANCE:
            raise MaskError(f"mask {path} is {mw}x{mh}, but the photo is {w}x{h} (another "
                            "shape): draw the mask on the photo itself")
        key = (path, (mh, mw), (h, w))
        if warned is None or key not in warned:
            log.warning("mask %s is %dx%d; resizing it to %s", path, mw, mh, target)
            if warned is not None:
                warned.add(key)
        gray = np.asarray(Image.fromarray(gray).resize((w, h), Image.Resampling.NEAREST))
    known = gray >= 128
    if invert:
        known = ~known
    return known.astype(np.float32)[..., None]


def _stem(path: str) -> str:
    return os.path.splitext(os.path.basename(path))[0]


class MaskFile:
    """Masks from ``path``: one image used for every image, or a folder of per-image masks.

    In a folder (searched recursively) the mask of ``photos/face01.jpg`` is the image file
    whose stem is ``face01``. The single file is read once; a folder is listed once.
    ``size`` S: the model's image side, for masks of aligned images; masks drawn on
    photos are fitted to each photo's size instead (``for_image(path, (H, W))``).
    """

    def __init__(self, path: str, size: int | None = None, *, invert: bool = False):
        self.path, self.size, self.invert = path, size, invert
        self.shared = None                         # the single file's uint8 pixels
        self.by_stem: dict[str, list[str]] = {}
        self.warned: set = set()                   # resize warnings already given
        if os.path.isdir(path):
            for found in images.list_images(path):
                self.by_stem.setdefault(_stem(found), []).append(found)
            if not self.by_stem:
                raise MaskError(f"mask folder {path!r} holds no images")
        elif os.path.exists(path):
            self.shared = read_gray(path)
        else:
            raise MaskError(f"mask file {path!r} does not exist")

    def for_image(self, image_path: str, size=None) -> np.ndarray:
        """(S, S, 1) mask of ``image_path``; with ``size`` (H, W), the mask of a photo of
        that size (see fit_mask, photo=True). MaskError naming the image if there is none,
        or if it does not fit the photo."""
        source = self._source(image_path)
        gray = self.shared if self.shared is not None else read_gray(source)
        if size is None:
            return fit_mask(gray, source, self.size, invert=self.invert, warned=self.warned)
        try:
            return fit_mask(gray, source, size, invert=self.invert, photo=True, warned=self.warned)
        except MaskError as e:
            raise MaskError(f"{image_path}: {e}") from e

    def _source(self, image_path: str) -> str:
        """The mask file that belongs to ``image_path``."""
        if not self.by_stem:
            return self.path
        found = self.by_stem.get(_stem(image_path), [])
        if not found:
            raise MaskError(f"{image_path}: no mask named {_stem(image_path)}.* in {self.path}")
        if len(found) > 1:
            raise MaskError(f"{image_path}: several masks match in {self.path}: {', '.join(found)}")
        return found[0]
