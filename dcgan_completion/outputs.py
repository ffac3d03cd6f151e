"""A completion run's output folder: batches written whole, and the records that list them.

``RunRecord`` keeps ``inputs.csv`` (output name, input path, status, reason: one row per
input) and ``losses.csv`` of a run; ``RunRecord.commit_batch`` writes one batch's files
through a ``BatchFiles`` and lists them only once all are written, removing them again if
anything (an interrupt, a full disk) cuts the batch short. At any moment the folder
holds complete files only, and the records say exactly which images are done.
"""

from __future__ import annotations

import contextlib
import csv
import os

import numpy as np

from . import images
from .files import atomic_write


class BatchFiles:
    """The files of one batch, written through ``save`` / ``save_gif``. ``discard`` removes
    them all again, so that a batch cut short (interrupt, full disk) leaves no file that
    inputs.csv does not list."""

    def __init__(self, out_dir: str):
        self.out_dir, self.paths = out_dir, []

    def save(self, relpath: str, pixels: np.ndarray) -> None:
        self.paths.append(os.path.join(self.out_dir, relpath))
        images.save_image(self.paths[-1], pixels)

    def save_gif(self, relpath: str, frames) -> None:
        self.paths.append(os.path.join(self.out_dir, relpath))
        images.save_gif(self.paths[-1], frames)

    def discard(self) -> None:
        for path in self.paths:
            with contextlib.suppress(OSError):
                os.remove(path)
        for folder in {os.path.dirname(p) for p in self.paths}:
            with contextlib.suppress(OSError):        # only if empty: other batches' files stay
                os.rmdir(folder)


class RunRecord:
    """inputs.csv and losses.csv of a run.

    Both are rewritten atomically (files.atomic_write) after each batch whose files are
    all written, so that at any moment -- an interrupt included -- they list exactly the
    completed images on disk. ``done`` images (the first ones of ``paths``) are completed.
    """

    HEADER = ["name", "input", "status", "reason"]
    LOSSES_HEADER = ["image", "batch", "iteration", "contextual", "perceptual", "total"]

    def __init__(self, out_dir: str, paths: list[str], names: list[str], failed: dict,
                 with_losses: bool):
        self.out_dir, self.paths, self.names, self.failed = out_dir, paths, names, failed
        self.done = 0
        self.loss_rows = [] if with_losses else None
        self.write()

    def commit(self, count: int, loss_rows=()) -> None:
        """The next ``count`` images are completed (all their files written)."""
        rows = None if self.loss_rows is None else self.loss_rows + list(loss_rows)
        self.write(self.done + count, rows)
        self.done, self.loss_rows = self.done + count, rows    # only once both files say so

    def write(self, done: int | None = None, loss_rows=None, stopped=None) -> None:
        """Rewrite both files for ``done`` completed images (default: the committed ones).
        ``stopped``: (status, reason) of the images not completed, once the run has ended."""
        done = self.done if done is None else done
        loss_rows = self.loss_rows if loss_rows is None else loss_rows
        rest = stopped or ("pending", "not completed yet")
        with atomic_write(os.path.join(self.out_dir, "inputs.csv"), newline="") as f:
            rows = csv.writer(f)
            rows.writerow(self.HEADER)
            for i, (name, path) in enumerate(zip(self.names, self.paths)):
                rows.writerow([name, path, "completed", ""] if i < done else [name, path, *rest])
            for item, reason in self.failed.items():
                rows.writerow(["", item, "skipped", reason])
        if loss_rows is not None:
            with atomic_write(os.path.join(self.out_dir, "losses.csv"), newline="") as f:
                rows = csv.writer(f)
                rows.writerow(self.LOSSES_HEADER)
                rows.writerows(loss_rows)

    def commit_batch(self, count: int, write) -> None:
        """Run ``write(files)`` (it writes a batch of ``count`` images through a BatchFiles
        and returns its losses.csv rows, or None), then record the batch; if anything
        stops it, remove the batch's files again."""
        files = BatchFiles(self.out_dir)
        try:
            loss_rows = write(files)
            self.commit(count, loss_rows or ())
        except BaseException:       # KeyboardInterrupt too: no half batch is ever left behind
            files.discard()
            raise
