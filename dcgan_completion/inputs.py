"""The images a command is given: files, folders (searched recursively) and glob patterns,
read at the model's size.

Nothing here stops a batch: what names no usable image is returned with the reason, and
the caller reports it and goes on with the rest.
"""

from __future__ import annotations

import glob
import logging
import os

import numpy as np

from .images import ImageReadError, list_images, load_image

log = logging.getLogger(__name__)


def expand_inputs(items: list[str]) -> tuple[list[str], dict[str, str]]:
    """(image paths in order, each once; {item: reason} for items that name nothing usable)."""
    paths, failed = [], {}
    for item in items:
        if os.path.exists(item):
            matches = [item]
        elif glob.has_magic(item):
            matches = sorted(glob.glob(item, recursive=True))
            if not matches:
                failed[item] = f"{item}: no file matches this pattern"
        else:
            failed[item] = f"{item}: no such file or folder"
            matches = []
        for match in matches:
            found = list_images(match) if os.path.isdir(match) else [match]
            if os.path.isdir(match) and not found:
                failed[match] = f"{match}: folder holds no images"
            paths.extend(p for p in found if p not in paths)
    return paths, failed


def shard(paths: list[str], part: int, parts: int) -> tuple[list[str], int]:
    """Part ``part`` (1..parts) of ``paths`` split into ``parts`` contiguous, near-equal
    shares, and the index of its first path in the whole list: N machines given the same
    inputs and parts 1..N complete every input exactly once between them."""
    if not 1 <= part <= parts:
        raise ValueError(f"shard {part}/{parts}: the part must be from 1 to {parts}")
    lo, hi = (part - 1) * len(paths) // parts, part * len(paths) // parts
    return paths[lo:hi], lo


def read_sized(path: str, size: int, channels: int, strict: bool = False) -> np.ndarray:
    """uint8 (size, size, channels): an image of another size is resized with a warning,
    or refused with ``strict`` (ImageReadError naming the file and both sizes)."""
    pixels = load_image(path, size=None, channels=channels)
    if pixels.shape[:2] != (size, size):
        shape = f"{pixels.shape[1]}x{pixels.shape[0]}"
        if strict:
            raise ImageReadError(f"{path}: is {shape}, the model needs {size}x{size}, and resizing is off")
        log.warning("%s: resizing %s to %dx%d", path, shape, size, size)
        pixels = load_image(path, size=size, channels=channels)
    return pixels


def unique_names(paths: list[str]) -> list[str]:
    """Output file names: the input's stem + .png, with _2, _3... for repeated stems."""
    taken, names = set(), []
    for path in paths:
        stem = os.path.splitext(os.path.basename(path))[0]
        name, n = f"{stem}.png", 1
        while name in taken:
            n += 1
            name = f"{stem}_{n}.png"
        taken.add(name)
        names.append(name)
    return names
