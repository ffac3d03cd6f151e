"""Training callbacks: progress bar, fixed-z sample grids, TensorBoard.

Each is handed its folder by the CLI; none of them changes training.
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
    def on_train_begin(self, trainer, total_steps: int) -> None: ...
    def on_step_end(self, trainer, step: int, metrics: dict) -> None: ...
    def on_train_end(self, trainer) -> None: ...


def _images_per_step(trainer) -> int:
    cfg = trainer.train_config
    return cfg.batch_size * cfg.d_steps


class ProgressBar(Callback):
    """tqdm bar with ETA, the losses and images/s (real images consumed per second)."""

    def __init__(self, disable: bool = False):
        self.disable = disable
        self.bar = None

    def on_train_begin(self, trainer, total_steps):
        self.bar = tqdm(total=total_steps, initial=int(trainer.step.numpy()), unit="step",
                        dynamic_ncols=True, disable=self.disable, desc="train")
        self._t, self._n = time.perf_counter(), 0
        self._rate = 0.0

    def on_step_end(self, trainer, step, metrics):
        self._n += 1
        now = time.perf_counter()
        if now - self._t >= 2.0:   # a smoothed rate, not one step's jitter
            self._rate = self._n * _images_per_step(trainer) / (now - self._t)
            self._t, self._n = now, 0
        self.bar.set_postfix(epoch=int(trainer.epoch.numpy()), d=f"{float(metrics['d_loss']):.3f}",
                             g=f"{float(metrics['g_loss']):.3f}", img_s=f"{self._rate:.1f}",
                             refresh=False)
        self.bar.update(1)

    def on_train_end(self, trainer):
        self.bar.close()


def fixed_z(trainer, count: int):
    return sample_z(count, trainer.model_config.z_dim, SAMPLE_SEED)


class SampleGrid(Callback):
    """Writes ``train_<step>.png`` (a grid of G(fixed z)) every ``every`` steps and at the end."""

    def __init__(self, sample_dir: str, every: int = 200, count: int = 64):
        self.sample_dir, self.every, self.count = sample_dir, every, count

    def write(self, trainer, step: int) -> str:
        pixels = images.to_uint8(trainer.sample(fixed_z(trainer, self.count)))
        path = os.path.join(self.sample_dir, f"train_{step:08d}.png")
        images.save_image(path, images.make_grid(pixels))
        return path

    def on_step_end(self, trainer, step, metrics):
        if self.every and step % self.every == 0:
            self.write(trainer, step)

    def on_train_end(self, trainer):
        self.write(trainer, int(trainer.step.numpy()))


class TensorBoard(Callback):
    """Scalars (losses, D(x), D(G(z)), images/s) every ``every`` steps; sample images too."""

    def __init__(self, log_dir: str, every: int = 10, image_every: int = 200, count: int = 16):
        self.writer = tf.summary.create_file_writer(log_dir)
        self.every, self.image_every, self.count = every, image_every, count
        self._t, self._last = None, None

    def on_train_begin(self, trainer, total_steps):
        self._t, self._step = time.perf_counter(), int(trainer.step.numpy())

    def on_step_end(self, trainer, step, metrics):
        self._last = (step, metrics)
        with self.writer.as_default(step=step):
            if step % self.every == 0:
                self._scalars(trainer, step, metrics)
            if self.image_every and step % self.image_every == 0:
                self._images(trainer)

    def _scalars(self, trainer, step, metrics):
        for name, value in metrics.items():
            tf.summary.scalar(name, value)
        now = time.perf_counter()
        rate = (step - self._step) * _images_per_step(trainer) / max(now - self._t, 1e-9)
        tf.summary.scalar("images_per_second", rate)
        self._t, self._step = now, step

    def _images(self, trainer):
        samples = images.to_uint8(trainer.sample(fixed_z(trainer, self.count)))
        tf.summary.image("samples", samples, max_outputs=self.count)

    def on_train_end(self, trainer):
        step = int(trainer.step.numpy())
        with self.writer.as_default(step=step):
            if self._last is not None and self._last[0] == step and step % self.every:
                self._scalars(trainer, *self._last)        # the final step's values too
            self._images(trainer)
        self.writer.flush()
