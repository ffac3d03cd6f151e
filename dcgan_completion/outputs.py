"""A completion run's output folder: batches completed and written whole, and the records
that list them.

``run_projection`` (completion by optimising z) and ``run_network`` (one forward pass)
complete the images batch by batch and write each batch's files as soon as it is done;
the layout is dcgan-complete's (its module docstring lists the files).

``RunRecord`` keeps ``inputs.csv`` (output name, input path, status, reason, the side of
the model that completes it: one row per input) and ``losses.csv`` of a run; ``RunRecord.commit_batch`` writes one batch's files
through a ``BatchFiles`` and lists them only once all are written, removing them again if
anything (an interrupt, a full disk) cuts the batch short. At any moment the folder
holds complete files only, and the records say exactly which images are done.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import csv
import os

import numpy as np

from . import images, photos as photo_lib
from .blend import visible_input
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

    HEADER = ["name", "input", "status", "reason", "model_size"]
    LOSSES_HEADER = ["image", "batch", "iteration", "contextual", "perceptual", "total"]
    RANKS = ["rank", "sample"]       # losses.csv's last columns with several fills per image

    def __init__(self, out_dir: str, paths: list[str], names: list[str], failed: dict,
                 with_losses: bool, with_ranks: bool = False, model_sizes=None):
        self.out_dir, self.paths, self.names, self.failed = out_dir, paths, names, failed
        # The image side of the model that completes each of ``paths`` (None: not said).
        self.model_sizes = list(model_sizes) if model_sizes is not None else [None] * len(paths)
        self.losses_header = self.LOSSES_HEADER + (self.RANKS if with_ranks else [])
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
            for i, (name, path, size) in enumerate(zip(self.names, self.paths, self.model_sizes)):
                status = ("completed", "") if i < done else rest
                rows.writerow([name, path, *status, "" if size is None else size])
            for item, reason in self.failed.items():
                rows.writerow(["", item, "skipped", reason, ""])
        if loss_rows is not None:
            with atomic_write(os.path.join(self.out_dir, "losses.csv"), newline="") as f:
                rows = csv.writer(f)
                rows.writerow(self.losses_header)
                rows.writerows(loss_rows)

    def stop(self, error: BaseException) -> str:
        """Record the run as stopped by ``error`` (KeyboardInterrupt: interrupted; OSError:
        the outputs cannot be written) after the batch cut short was removed; returns what
        the folder holds, in words."""
        status = ("interrupted", "the run was interrupted before this image was completed") \
            if isinstance(error, KeyboardInterrupt) else ("failed", f"cannot write the outputs: {error}")
        with contextlib.suppress(OSError):
            self.write(stopped=status)
        return (f"{self.done} of {len(self.paths)} image(s) completed (listed in "
                f"{os.path.join(self.out_dir, 'inputs.csv')}) in {self.out_dir}; the rest were not")

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


# --- the files of one batch ------------------------------------------------------------

PROGRESS_BAR_HEIGHT = 3          # pixels under each GIF frame


def with_progress_bar(grid: np.ndarray, fraction: float) -> np.ndarray:
    """The grid with a bar below it, filled to ``fraction``: GIF frames stay distinct
    (the GIF writer merges identical consecutive frames)."""
    bar = np.full((PROGRESS_BAR_HEIGHT,) + grid.shape[1:], 255, np.uint8)
    bar[:, :round(fraction * grid.shape[1])] = 64
    return np.concatenate([grid, bar], axis=0)


def save_pictures(files: BatchFiles, k: int, names: list[str], pixels, known, completed=None,
                  generated=None) -> None:
    """input/, masked/ (and completed/, generated/) per image, and batch<k>'s input and
    masked grids."""
    for i, name in enumerate(names):
        if completed is not None:
            files.save(os.path.join("completed", name), completed[i])
        files.save(os.path.join("input", name), pixels[i])
        files.save(os.path.join("masked", name), known[i])
        if generated is not None:
            files.save(os.path.join("generated", name), generated[i])
    files.save(os.path.join(f"batch{k:03d}", "input.png"), images.make_grid(pixels))
    files.save(os.path.join(f"batch{k:03d}", "masked.png"), images.make_grid(known))


def trajectory_frames(result) -> list[np.ndarray]:
    """The frames of completion.gif: a grid of the completions (completion.CompletionResult)
    at each logged iteration, with a progress bar below."""
    last = max(1, len(result.iterations) - 1)
    return [with_progress_bar(images.make_grid(result.trajectory[j]), j / last)
            for j in range(len(result.iterations))]


def save_trajectory(files: BatchFiles, k: int, names: list[str], result, last: int) -> list[list]:
    """batch<k>'s completion grids at the logged iterations (up to ``last``) and their GIF;
    returns the batch's losses.csv rows."""
    digits = max(4, len(str(last)))
    for j, it in enumerate(result.iterations):
        grid = images.make_grid(result.trajectory[j])
        files.save(os.path.join(f"batch{k:03d}", f"completed_{it:0{digits}d}.png"), grid)
    files.save_gif(os.path.join(f"batch{k:03d}", "completion.gif"), trajectory_frames(result))
    loss_rows = []
    for j, it in enumerate(result.iterations):
        for i, name in enumerate(names):
            c, p, t = result.trajectory_losses[j, i]
            loss_rows.append([name, k, int(it), f"{c:.6g}", f"{p:.6g}", f"{t:.6g}"])
    return loss_rows


def sample_name(name: str, rank: int) -> str:
    """The file name of an image's fill of ``rank`` (1 = the lowest loss): face.png -> face_2.png.
    A folder of fills holds no other names, so two images' fills never share one."""
    stem, ext = os.path.splitext(name)
    return f"{stem}_{rank}{ext}"


def save_samples(files: BatchFiles, k: int, names: list[str], known, result, faces,
                 blend: str, texture: bool = False) -> list[list]:
    """The distinct fills of each image (result.samples, completion.Samples), by rank r = 1, 2, ...:
    completed/ and generated/<stem>_<r>.png, samples/<name>.png (what is known, then the
    fills) and with ``faces`` restored/<stem>_<r>.png and damaged/<name>.png (``texture``: as
    save_photos); returns the
    batch's losses.csv rows, every fill at every logged iteration."""
    samples, count = result.samples, result.samples.count()
    for i, name in enumerate(names):
        fills = samples.completed[i, :count[i]]
        for r in range(count[i]):
            files.save(os.path.join("completed", sample_name(name, r + 1)), fills[r])
            files.save(os.path.join("generated", sample_name(name, r + 1)), samples.generated[i, r])
        files.save(os.path.join("samples", name),
                   images.make_grid(np.concatenate([known[i:i + 1], fills]), columns=1 + count[i]))
        if faces:
            for r in range(count[i]):
                restored, damaged = photo_lib.restore(faces[i], fills[r], blend, texture=texture)
                files.save(os.path.join("restored", sample_name(name, r + 1)), restored)
            files.save(os.path.join("damaged", name), damaged)
    return [[name, k, int(it), *(f"{v:.6g}" for v in samples.trajectory_losses[j, i, r]), r + 1,
             int(samples.sample[i, r])]
            for j, it in enumerate(result.iterations) for i, name in enumerate(names)
            for r in range(count[i])]


def save_photos(files: BatchFiles, names: list[str], faces, completed, blend: str,
                texture: bool = False) -> None:
    """restored/<name>.png: each photo with its face's hole filled (with ``texture``, given
    the photo's own fine texture: photos.restore); damaged/<name>.png: the photo as the
    completion saw it (missing pixels gray)."""
    for name, face, done in zip(names, faces, completed):
        restored, damaged = photo_lib.restore(face, done, blend, texture=texture)
        files.save(os.path.join("restored", name), restored)
        files.save(os.path.join("damaged", name), damaged)


# --- completing a run batch by batch ---------------------------------------------------

def run_projection(record: RunRecord, names, pixels, mask_set, G, D, settings: dict,
                   batch_size: int, *, quiet: bool = False, faces=None,
                   first_index: int = 0, encoder=None, replicas=(), first_batch: int = 0,
                   texture: bool = False, guide=None) -> None:
    """Complete ``pixels`` (uint8 (N, S, S, C)) with completion.complete(**settings), batch
    by batch, and write each batch's files, with ``faces`` (photos.PhotoFace, one per
    image) its restored/ and damaged/ photos; ``record`` lists each batch once all its
    files are written. ``first_index``: the run's index of pixels[0] (a shard's offset),
    which seeds the starting z. With an ``encoder``, each image starts at its z
    (encoder.encode). ``replicas``: more (device, G, D), models placed on other devices
    (every local GPU): each completes its own batch at the same time as G and D do, and
    the batches are still written and recorded in order. ``first_batch``: the number of
    the first batch (batch<kkk>/ folders), after a run's earlier batches. ``texture``: the
    restored photos take the photo's own fine texture (photos.restore). ``guide``: a
    completion network's NetworkCompleter whose fills each batch's are averaged with
    (complete's guide), or None."""
    from tqdm import tqdm
    n_batches = -(-len(pixels) // batch_size)
    workers = [(None, G, D), *replicas]
    offset = first_batch
    bar = tqdm(total=n_batches * last_iteration(settings), unit="it", dynamic_ncols=True,
               disable=quiet, desc="complete")

    def batch(k: int, worker) -> tuple[slice, object]:
        """Complete batch k with ``worker`` (device, G, D)."""
        device, g, d = worker
        part = slice(k * batch_size, min((k + 1) * batch_size, len(pixels)))
        with tf_device(device):
            result = complete_batch(pixels[part], mask_set, part, g, d, settings, bar,
                                    first_index=first_index, encoder=encoder, guide=guide)
        return part, result

    with bar:
        for start in range(0, n_batches, len(workers)):
            ks = range(start, min(start + len(workers), n_batches))
            bar.set_postfix(batch=f"{ks[-1] + 1}/{n_batches}", refresh=False)
            if len(ks) == 1:
                done = [batch(ks[0], workers[0])]
            else:               # one batch per device at once; written in order below
                with concurrent.futures.ThreadPoolExecutor(len(ks)) as pool:
                    done = list(pool.map(batch, ks, workers))
            for k, (part, result) in zip(ks, done):
                x, m = pixels[part], mask_set.batch(part.start, part.stop)
                record.commit_batch(len(x), batch_writer(offset + k, names[part], x, m,
                                                         mask_set, result, settings,
                                                         faces and faces[part], texture))


def last_iteration(settings: dict) -> int:
    """The last logged iteration of complete(**settings): the z stage's, then the
    refinement's, then the detail's."""
    detail = settings.get("detail_iter", 0) if settings.get("detail") else 0
    return settings["n_iter"] + settings.get("refine", 0) + detail


def tf_device(device: str | None):
    """``tf.device(device)``, or no placement at all for None (TensorFlow's default)."""
    if device is None:
        return contextlib.nullcontext()
    import tensorflow as tf
    return tf.device(device)


def complete_batch(x, mask_set, part: slice, G, D, settings: dict, bar, *,
                   first_index: int, encoder=None, guide=None):
    """completion.complete on the batch ``x`` (images ``part`` of the run), counting its
    iterations on the progress ``bar``; with ``guide`` (a NetworkCompleter), its fills
    are complete's guide."""
    from . import completion
    from .encoder import encode
    done = [0]

    def progress(it):
        bar.update(it - done[0])
        done[0] = it

    m = mask_set.batch(part.start, part.stop)
    result = completion.complete(x, m, G, D, first_index=first_index + part.start,
                                 lowres_factor=mask_set.lowres_factor,
                                 z_init=encode(encoder, x, m, mask_set.lowres_factor),
                                 guide=None if guide is None else guide.complete(x, m, len(x)),
                                 progress=progress, **settings)
    progress(last_iteration(settings))  # images that stopped early (tol) end the batch
    return result


def batch_writer(k: int, names, x, m, mask_set, result, settings: dict, faces,
                 texture: bool = False):
    """write(files) for RunRecord.commit_batch: batch k's pictures, trajectory and photos
    (``texture``: as save_photos); returns its losses.csv rows."""
    def write(files):
        known = visible_input(x, m, mask_set.lowres_factor)
        if settings.get("samples", 1) > 1:        # the fills by rank; the grids show rank 1
            save_pictures(files, k, names, x, known)
            save_trajectory(files, k, names, result, last_iteration(settings))
            return save_samples(files, k, names, known, result, faces, settings["blend"], texture)
        save_pictures(files, k, names, x, known, result.completed, result.generated)
        rows = save_trajectory(files, k, names, result, last_iteration(settings))
        if faces:
            save_photos(files, names, faces, result.completed, settings["blend"], texture)
        return rows
    return write


def run_network(record: RunRecord, names, pixels, mask_set, completer, batch_size: int, *,
                faces=None, blend: str = "poisson", first_batch: int = 0,
                texture: bool = False) -> None:
    """The same with a completion network's one forward pass per batch (``completer``: a
    completion_net.inference.NetworkCompleter): no generated/, frames, GIF or losses, and
    batch<k>/completed.png."""
    for k, lo in enumerate(range(0, len(pixels), batch_size), start=first_batch):
        hi = min(lo + batch_size, len(pixels))
        x, m = pixels[lo:hi], mask_set.batch(lo, hi)
        completed = completer.complete(x, m, batch_size)
        known = visible_input(x, m)

        def write(files):
            save_pictures(files, k, names[lo:hi], x, known, completed)
            files.save(os.path.join(f"batch{k:03d}", "completed.png"), images.make_grid(completed))
            if faces is not None:
                save_photos(files, names[lo:hi], faces[lo:hi], completed, blend, texture)

        record.commit_batch(hi - lo, write)
