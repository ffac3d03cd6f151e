"""Image and GIF I/O, the one converter between uint8 and [-1, 1], and sample grids."""

from __future__ import annotations

import math
import os

import imageio.v3 as iio
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .files import atomic_path, unreadable_reason

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".webp")


class ImageReadError(ValueError):
    """A file that cannot be read as an image; the message names the file and the reason."""


# --- the one converter between uint8 pixels and the networks' [-1, 1] ------------------

# TensorFlow is imported inside the two converters, not at the top: processes that only
# read and write images (the aligner's worker processes) then never start it.

def to_float(pixels):
    """uint8 [0, 255] (numpy or tensor) -> float32 tensor in [-1, 1]."""
    import tensorflow as tf
    return tf.cast(pixels, tf.float32) / 127.5 - 1.0


def to_uint8(images) -> np.ndarray:
    """[-1, 1] floats (numpy or tensor) -> uint8 numpy array, rounded and clipped."""
    import tensorflow as tf
    x = tf.clip_by_value((tf.cast(images, tf.float32) + 1.0) * 127.5, 0.0, 255.0)
    return tf.cast(tf.round(x), tf.uint8).numpy()


# --- reading ---------------------------------------------------------------------------

def list_images(root: str) -> list[str]:
    """All image files under ``root`` (recursively), sorted so that runs are reproducible."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            if name.lower().endswith(IMAGE_EXTENSIONS) and not name.startswith("."):
                found.append(os.path.join(dirpath, name))
    return found


SIXTEEN_BIT_MODES = ("I;16", "I;16B", "I;16L", "I;16N", "I")   # PIL's modes of 16-bit gray


def _to_mode(img: Image.Image, channels: int) -> Image.Image:
    """Grayscale, palette, RGBA, CMYK, 16-bit... -> 'L' or 'RGB'. Transparency is put on white.

    16-bit images are scaled by their bit depth (65535 -> 255), never by their own
    maximum: a dark 16-bit photo stays dark.
    """
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        img = img.convert("RGBA")
        background = Image.new("RGBA", img.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, img)
    if img.mode in SIXTEEN_BIT_MODES:
        arr = np.asarray(img, dtype=np.float64)
        img = Image.fromarray(np.clip(np.round(arr * (255.0 / 65535.0)), 0, 255).astype(np.uint8))
    return img.convert("L" if channels == 1 else "RGB")


def center_crop_box(width: int, height: int) -> tuple[int, int, int, int]:
    side = min(width, height)
    left, top = (width - side) // 2, (height - side) // 2
    return left, top, left + side, top + side


def load_image(path: str, size: int | None = None, channels: int = 3,
               crop: bool = False) -> np.ndarray:
    """Read ``path`` as uint8 (H, W, channels); resize to size x size if given.

    ``path`` may also be a binary file object (an upload held in memory); messages then
    name it by its ``str()``.

    ``crop`` takes the centre square before resizing (for unaligned photos); without it
    the whole image is resized. The EXIF orientation is applied (a phone portrait stored
    sideways is read upright), and the whole file is decoded, so a truncated file is
    detected here. Raises ImageReadError naming the file on any failure.
    """
    try:
        with Image.open(path) as img:
            img.load()
            img = _to_mode(ImageOps.exif_transpose(img), channels)
    except (FileNotFoundError, IsADirectoryError) as e:     # before the decoding errors
        raise ImageReadError(f"{path}: {unreadable_reason(e)}") from e
    except UnidentifiedImageError as e:
        raise ImageReadError(f"{path}: not an image file (unknown format)") from e
    except (OSError, ValueError, SyntaxError) as e:   # truncated or corrupt data
        raise ImageReadError(f"{path}: cannot decode image ({e})") from e
    if crop:
        img = img.crop(center_crop_box(*img.size))
    if size is not None and img.size != (size, size):
        img = img.resize((size, size), Image.Resampling.LANCZOS)
    arr = np.asarray(img, dtype=np.uint8)
    return arr[..., None] if arr.ndim == 2 else arr


# --- writing ---------------------------------------------------------------------------

def save_image(path: str, pixels: np.ndarray) -> None:
    """Write a uint8 (H, W, C) array atomically; C = 1 is written as grayscale."""
    pixels = np.asarray(pixels)
    if pixels.dtype != np.uint8:
        raise TypeError(f"save_image wants uint8 pixels, got {pixels.dtype}")
    if pixels.ndim == 3 and pixels.shape[-1] == 1:
        pixels = pixels[..., 0]
    with atomic_path(path) as tmp:
        iio.imwrite(tmp, pixels)


def make_grid(pixels: np.ndarray, columns: int | None = None, pad: int = 2,
              pad_value: int = 255) -> np.ndarray:
    """Tile uint8 (N, H, W, C) into one (rows*H, cols*W, C) picture, near-square by default."""
    pixels = np.asarray(pixels)
    n, h, w, c = pixels.shape
    cols = columns or math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    grid = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad, c), pad_value, np.uint8)
    for i in range(n):
        r, q = divmod(i, cols)
        y, x = pad + r * (h + pad), pad + q * (w + pad)
        grid[y:y + h, x:x + w] = pixels[i]
    return grid


def save_gif(path: str, frames, duration_s: float = 0.1, loop: int = 0) -> None:
    """Write uint8 frames (N, H, W, C) as an animated GIF atomically; loop=0 repeats forever."""
    data = encode_gif(frames, duration_s, loop)
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        f.write(data)


def encode_gif(frames, duration_s: float = 0.1, loop: int = 0) -> bytes:
    """The bytes of save_gif's file: uint8 frames (N, H, W, C) as an animated GIF."""
    frames = [np.asarray(f)[..., 0] if np.asarray(f).shape[-1] == 1 else np.asarray(f)
              for f in frames]
    if not frames:
        raise ValueError("save_gif needs at least one frame")
    return iio.imwrite("<bytes>", np.stack(frames), extension=".gif", duration=duration_s * 1000,
                       loop=loop)


def encode_png(pixels: np.ndarray) -> bytes:
    """The bytes of a PNG file of uint8 (H, W, C) pixels, as save_image writes it."""
    pixels = np.asarray(pixels)
    if pixels.dtype != np.uint8:
        raise TypeError(f"encode_png wants uint8 pixels, got {pixels.dtype}")
    if pixels.ndim == 3 and pixels.shape[-1] == 1:
        pixels = pixels[..., 0]
    return iio.imwrite("<bytes>", pixels, extension=".png")
