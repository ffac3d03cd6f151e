"""Training callbacks: progress bar, fixed-z sample grids, TensorBoard.

Each is handed its folder by the CLI; none of them changes training. Every hook gets the
engine.TrainingRun: its counters and settings, and ``run.trainer`` for the networks.
"""

from __future__ import annotations

import os
import time

import tensorflow as tf
from tqdm import tqdm

from . import images
from .model import sample_z

SAMPLE_SEED = (2016, 7)   # the fixed z of the sample grids: the same picture every run


class Callback:
    def on_train_begin(self, run, total_steps: int) -> None: ...
    def on_step_end(self, run, step: int, metrics: dict) -> None: ...
    def on_train_end(self, run) -> None: ...


class ProgressBar(Callback):
    """tqdm bar with ETA, the losses (every metric named *_loss) and images/s (real images
    consumed per second)."""

    def __init__(self, disable: bool = False):
        self.disable = disable
        self.bar = None

    def on_train_begin(self, run, total_steps):
        self.bar = tqdm(total=total_steps, initial=int(run.step.numpy()), unit="step",
                        dynamic_ncols=True, disable=self.disable, desc="train")
        self._t, self._n = time.perf_counter(), 0
        self._rate = 0.0

    def on_step_end(self, run, step, metrics):
        self._n += 1
        now = time.perf_counter()
        if now - self._t >= 2.0:   # a smoothed rate, not one step's jitter
            self._rate = self._n * run.train_config.images_per_step / (now - self._t)
            self._t, self._n = now, 0
        losses = {name.removesuffix("_loss"): f"{float(value):.3f}"      # d_loss -> d
                  for name, value in metrics.items() if name.endswith("_loss")}
        self.bar.set_postfix(epoch=int(run.epoch.numpy()), **losses, img_s=f"{self._rate:.1f}",
                             refresh=False)
        self.bar.update(1)

    def on_train_end(self, run):
        self.bar.close()


def fixed_z(run, count: int):
    return sample_z(count, run.trainer.model_config.z_dim, SAMPLE_SEED)


class SampleGrid(Callback):
    """Writes ``train_<step>.png`` (a grid of G(fixed z)) every ``every`` steps and at the end."""

    def __init__(self, sample_dir: str, every: int = 200, count: int = 64):
        self.sample_dir, self.every, self.count = sample_dir, every, count

    def write(self, run, step: int) -> str:
        pixels = images.to_uint8(run.trainer.sample(fixed_z(run, self.count)))
        path = os.path.join(self.sample_dir, f"train_{step:08d}.png")
        images.save_image(path, images.make_grid(pixels))
        return path

    def on_step_end(self, run, step, metrics):
        if self.every and step % self.every == 0:
            self.write(run, step)

    def on_train_end(self, run):
        self.write(run, int(run.step.numpy()))


class TensorBoard(Callback):
    """Scalars (losses, D(x), D(G(z)), images/s) every ``every`` steps; sample images too."""

    def __init__(self, log_dir: str, every: int = 10, image_every: int = 200, count: int = 16):
        self.writer = tf.summary.create_file_writer(log_dir)
        self.every, self.image_every, self.count = every, image_every, count
        self._t, self._last = None, None

    def on_train_begin(self, run, total_steps):
        self._t, self._step = time.perf_counter(), int(run.step.numpy())

    def on_step_end(self, run, step, metrics):
        self._last = (step, metrics)
        with self.writer.as_default(step=step):
            if step % self.every == 0:
                self._scalars(run, step, metrics)
            if self.image_every and step % self.image_every == 0:
                self._images(run)

    def _scalars(self, run, step, metrics):
        for name, value in metrics.items():
            tf.summary.scalar(name, value)
        now = time.perf_counter()
        rate = (step - self._step) * run.train_config.images_per_step / max(now - self._t, 1e-9)
        tf.summary.scalar("images_per_second", rate)
        self._t, self._step = now, step

    def _images(self, run):
        samples = images.to_uint8(run.trainer.sample(fixed_z(run, self.count)))
        tf.summary.image("samples", samples, max_outputs=self.count)

    def on_train_end(self, run):
        step = int(run.step.numpy())
        with self.writer.as_default(step=step):
            if self._last is not None and self._last[0] == step and step % self.every:
                self._scalars(run, *self._last)        # the final step's values too
            self._images(run)
        self.writer.flush()


class PairGrid(SampleGrid):
    """``train_<step>.png``: fixed inputs beside what the network makes of them, 4 pairs a row;
    ``pairs(trainer)`` gives them as uint8 (2N, S, S, C) (input i, then its output)."""

    def __init__(self, sample_dir: str, pairs, count: int, every: int = 200):
        super().__init__(sample_dir, every, count=count)
        self.pairs = pairs

    def write(self, run, step: int) -> str:
        path = os.path.join(self.sample_dir, f"train_{step:08d}.png")
        images.save_image(path, images.make_grid(self.pairs(run.trainer), columns=8))
        return path


class PairTensorBoard(TensorBoard):
    """TensorBoard's scalars; its images are PairGrid's pairs, under ``tag``."""

    def __init__(self, log_dir: str, pairs, count: int, tag: str, every: int = 10,
                 image_every: int = 200):
        super().__init__(log_dir, every=every, image_every=image_every, count=2 * count)
        self.pairs, self.tag = pairs, tag

    def _images(self, run):
        tf.summary.image(self.tag, self.pairs(run.trainer), max_outputs=self.count)
