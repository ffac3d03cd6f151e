"""The training input pipeline: a folder of face images -> batches in [-1, 1].

Each epoch reads the files in a fresh permutation drawn from (seed, epoch), so the order
is reshuffled every epoch yet fully reproducible; a resumed run rebuilds the epoch's
pipeline and skips the files already consumed, which makes resuming exact without
saving any iterator state. Decoding runs in parallel (PIL in tf.numpy_function, which
reads every format and mode: webp, palette, RGBA, 16-bit...); a file that fails to
decode is dropped with a warning naming it and counted in a report.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import logging
import os
import threading

import numpy as np
import tensorflow as tf
from PIL import Image

from . import images
from .files import atomic_write

log = logging.getLogger(__name__)


class DatasetError(ValueError):
    """The dataset folder cannot feed training (missing, empty, too small).

    ``setting``: the argument that would fix it ("batch_size"), or None; a command line
    names its own flag for it (cli.common.error_message).
    """

    def __init__(self, message: str, setting: str | None = None):
        super().__init__(message)
        self.setting = setting


@dataclasses.dataclass
class BadFileReport:
    """Files dropped from training, with the reason; shared by the pipeline's threads."""
    reasons: dict = dataclasses.field(default_factory=dict)
    _lock: threading.Lock = dataclasses.field(default_factory=threading.Lock, repr=False)

    def add(self, path: str, reason: str) -> None:
        with self._lock:
            if path not in self.reasons:
                self.reasons[path] = reason
                log.warning("skipping %s", reason)

    def __len__(self) -> int:
        return len(self.reasons)

    def write(self, path: str) -> str:
        """Write the list to ``path`` atomically: one ``file<TAB>reason`` line per file."""
        with self._lock:
            lines = [f"{file}\t{reason.removeprefix(file + ': ')}"
                     for file, reason in self.reasons.items()]
        with atomic_write(path) as f:
            f.writelines(_one_line(line) + "\n" for line in lines)
        return path


SKIPPED_FILES = "skipped_files.txt"     # a run's list of the files it could not use


def _one_line(text: str) -> str:
    """Line breaks in a file name or a reason would split its entry."""
    return text.replace("\r", " ").replace("\n", " ")


def _header_ok(path: str) -> str | None:
    """None if PIL recognises the file from its header, else the reason (cheap: no decode)."""
    try:
        with Image.open(path) as img:
            img.size
        return None
    except Exception as e:  # any failure means "not an image we can use": report it
        return f"{path}: not a readable image ({type(e).__name__}: {e})"


def find_training_images(directory: str, min_count: int = 1,
                         report: BadFileReport | None = None,
                         limit: int | None = None) -> list[str]:
    """Image files under ``directory`` whose header PIL can read, sorted.

    Raises DatasetError when the folder is missing, holds no usable image, or fewer
    than ``min_count`` (one batch). ``limit`` keeps the first ``limit`` files.
    """
    if not os.path.isdir(directory):
        raise DatasetError(f"dataset folder {directory!r} does not exist or is not a folder")
    paths = images.list_images(directory)
    if not paths:
        raise DatasetError(
            f"no images found in {directory!r} (looked recursively for "
            f"{', '.join(images.IMAGE_EXTENSIONS)})")
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        reasons = list(pool.map(_header_ok, paths))
    good = []
    for path, reason in zip(paths, reasons):
        if reason is None:
            good.append(path)
        elif report is not None:
            report.add(path, reason)
        else:
            log.warning("skipping %s", reason)
    if limit is not None:
        good = good[:limit]
    if len(good) < min_count:
        raise DatasetError(
            f"{directory!r} has {len(good)} usable image(s), fewer than one batch "
            f"({min_count}); add images or use a smaller batch", setting="batch_size")
    return good


def epoch_order(num_files: int, seed: int, epoch: int) -> np.ndarray:
    """The permutation of file indices for ``epoch``: reproducible, different every epoch."""
    return np.random.default_rng([seed, epoch]).permutation(num_files)


def make_epoch_dataset(paths: list[str], *, image_size: int, channels: int, batch_size: int,
                       seed: int, epoch: int, start_file: int = 0, crop: bool = False,
                       flip: bool = True, num_shards: int = 1, shard_index: int = 0,
                       num_batches: int | None = None,
                       report: BadFileReport | None = None) -> tf.data.Dataset:
    """One epoch of (file_index, images) batches; images (B, H, W, C) float32 in [-1, 1].

    ``start_file`` skips the first files of the epoch's order (a resumed epoch).
    ``num_shards``/``shard_index`` split the files between input pipelines (workers).
    ``num_batches`` fixes the batch count (every worker must run the same number of
    steps); dropped files are then made up by cycling through the shard again.
    """
    report = report if report is not None else BadFileReport()
    order = epoch_order(len(paths), seed, epoch)[start_file:]
    ordered = np.asarray(paths, dtype=object)[order].astype(str)
    positions = np.arange(start_file, len(paths), dtype=np.int64)  # position in the epoch

    def decode(path):
        path = path.decode()
        try:
            return images.load_image(path, image_size, channels, crop), True
        except images.ImageReadError as e:
            report.add(path, str(e))
            return np.zeros((image_size, image_size, channels), np.uint8), False

    def load(position, path):
        pixels, ok = tf.numpy_function(decode, [path], [tf.uint8, tf.bool])
        pixels.set_shape((image_size, image_size, channels))
        return position, pixels, ok

    def finish(position, pixels, ok):
        x = images.to_float(pixels)                                    # (H, W, C)
        if flip:
            # Seeded by (seed, epoch, position) so a flip does not depend on threads.
            flip_seed = tf.stack([tf.constant(seed, tf.int64),
                                  tf.cast(epoch, tf.int64) * (1 << 32) + position])
            x = tf.image.stateless_random_flip_left_right(x, seed=flip_seed)
        return position, x

    ds = tf.data.Dataset.from_tensor_slices((positions, ordered))
    ds = ds.shard(num_shards, shard_index)
    ds = ds.map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    ds = ds.filter(lambda position, pixels, ok: ok)
    ds = ds.map(finish, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    if num_batches is not None:
        ds = ds.repeat()
    ds = ds.batch(batch_size, drop_remainder=True)
    if num_batches is not None:
        ds = ds.take(num_batches)
    return ds.prefetch(tf.data.AUTOTUNE)


def per_image_batches(dataset: tf.data.Dataset, attach, seed: int, stream: int,
                      epoch: int) -> tf.data.Dataset:
    """(positions, x) batches -> (positions, attach(x, seeds)): ``seeds[i]`` (int64 (2,)) is
    fold(fold((seed, stream), epoch), positions[i]), so what is drawn for the image at an
    epoch position depends on neither the batching, the sharding nor a resume."""
    base = tf.random.experimental.stateless_fold_in(tf.constant([seed, stream], tf.int64), epoch)

    def attach_each(positions, x):                      # (B,), (B, S, S, C)
        seeds = tf.map_fn(lambda p: tf.random.experimental.stateless_fold_in(base, p),
                          positions, fn_output_signature=tf.TensorSpec((2,), tf.int64))
        return positions, attach(x, seeds)

    return dataset.map(attach_each, num_parallel_calls=tf.data.AUTOTUNE,
                       deterministic=True).prefetch(tf.data.AUTOTUNE)


def first_readable(paths, image_size: int, channels: int, count: int, crop: bool = False,
                   report: BadFileReport | None = None) -> np.ndarray:
    """uint8 (n, S, S, C): the first ``count`` files of ``paths`` that decode (the fixed
    inputs of sample grids). A file that cannot be decoded is added to ``report`` and the
    next one taken; DatasetError when not one can be decoded."""
    report = report if report is not None else BadFileReport()
    pixels = []
    for path in paths:
        if len(pixels) == count:
            break
        try:
            pixels.append(images.load_image(path, image_size, channels, crop))
        except images.ImageReadError as e:
            report.add(path, str(e))
    if not pixels:
        raise DatasetError(f"none of the {len(paths)} images could be decoded "
                           f"({len(paths)} skipped, each named in a warning); nothing was trained")
    return np.stack(pixels)
