"""The training engine: one loop for every training method (keras-io's GAN habit: the loop
is shared, the step is what differs).

A method (train.GANTrainer, completion_net.training.CompletionTrainer) builds its networks
and optimizers under its strategy, then hands itself to a TrainingRun, which asks of it:

    train_config    its resolved settings (a TrainSettings)
    model_config    the network config; image_size and channels size the input pipeline
    strategy        the tf.distribute strategy its variables were made under
    checkpointed    {name: network or optimizer}: what the checkpoint holds with the counters
    replica_step(batch, step)  one step on one replica -> {metric: per-replica sum / global batch}
    batches(dataset, epoch)    (positions, x) batches -> (positions, what replica_step takes)
    write_config(directory)    its config.json
    after_step(step)           optional: updates after each step, in cross-replica context
                               (the DCGAN's moving average of G)
    before_save()              optional: brings derived state up to date before a
                               checkpoint is written (the moving average's statistics)

Everything else lives here once: the counters (step, epoch, files consumed in the epoch),
the checkpoint and its manager, restoring the newest intact checkpoint, saving only
finite weights, the chief (the one worker that keeps files), the step wrapper (replicas,
reduction and counters in one tf.function), the epoch loop with its callbacks, the save on
interrupt and the NaN check. Callbacks get the run: its counters, and ``run.trainer`` for
the networks. Also here: the settings every method shares (TrainSettings), its optimizers,
and reading a run folder's config.json back.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import numbers
import os

import keras
import numpy as np
import tensorflow as tf

from . import data
from .checkpoints import (CHECKPOINT_INDEX, checkpoint_step, listed_checkpoint,
                          saved_checkpoints)
from .config import SEED_MAX, ConfigError

log = logging.getLogger(__name__)


# --- settings ------------------------------------------------------------------------------

def check_settings(config, *, whole=(), counts=(), positive=(), nonnegative=(), betas=()) -> None:
    """ValueError naming the first setting of ``config`` out of range; None means unset.

    whole: seeds, whole numbers in [0, 2**32 - 1]; counts: whole numbers >= 1; positive: finite > 0;
    nonnegative: finite >= 0; betas: Adam's decay rates, in [0, 1). NaN and inf are
    refused everywhere: one NaN setting turns every weight into NaN at the first step.
    """
    for name in (*whole, *counts):
        value = getattr(config, name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise ValueError(f"{name} must be a whole number, got {value!r}")
        if name in counts and value < 1:
            raise ValueError(f"{name} must be a whole number of at least 1, got {value!r}")
        if name in whole and not 0 <= value <= SEED_MAX:
            raise ValueError(f"{name} must be a whole number from 0 to {SEED_MAX}, got {value!r}")
    ranges = ([(n, "> 0", lambda v: v > 0) for n in positive]
              + [(n, ">= 0", lambda v: v >= 0) for n in nonnegative]
              + [(n, "in [0, 1)", lambda v: 0 <= v < 1) for n in betas])
    for name, what, ok in ranges:
        value = getattr(config, name)
        if value is None:
            continue
        if (isinstance(value, bool) or not isinstance(value, numbers.Real)
                or not math.isfinite(value) or not ok(value)):
            raise ValueError(f"{name} must be a finite number {what}, got {value!r}")


@dataclasses.dataclass(frozen=True)
class TrainSettings:
    """The settings every training method shares. ``None`` means: the chosen loss's
    published default, taken from the subclass's LOSS_DEFAULTS ({loss: {setting: value}},
    with the optimizer's name under "optimizer"); NONNEGATIVE names its own weights (>= 0)."""
    LOSS_DEFAULTS = {}                 # plain class attributes, not fields
    NONNEGATIVE = ()

    loss: str = ""
    epochs: int = 25
    batch_size: int = 64               # global batch, split across replicas
    learning_rate: float | None = None
    d_learning_rate: float | None = None   # the critic's, if not learning_rate (TTUR, Heusel et al. 2017)
    beta1: float | None = None
    beta2: float | None = None
    d_steps: int | None = None
    g_steps: int | None = None
    gp_weight: float | None = None
    train_size: int | None = None      # use at most this many images
    seed: int = 0
    flip: bool = True
    crop: bool = False
    checkpoint_every: int = 500        # steps
    max_checkpoints: int = 3

    def __post_init__(self):
        if self.loss not in self.LOSS_DEFAULTS:
            raise ValueError(f"unknown loss {self.loss!r}; choose from {', '.join(self.LOSS_DEFAULTS)}")
        check_settings(self, counts=("epochs", "batch_size", "checkpoint_every", "max_checkpoints",
                                     "d_steps", "g_steps", "train_size"),
                       positive=("learning_rate", "d_learning_rate"), nonnegative=self.NONNEGATIVE,
                       betas=("beta1", "beta2"), whole=("seed",))

    def resolved(self):
        """A copy with every unset setting filled from the loss's defaults."""
        defaults = self.LOSS_DEFAULTS[self.loss]
        changes = {k: v for k, v in defaults.items() if k != "optimizer" and getattr(self, k) is None}
        return dataclasses.replace(self, **changes)

    @property
    def optimizer(self) -> str:
        return self.LOSS_DEFAULTS[self.loss]["optimizer"]

    @property
    def images_per_step(self) -> int:
        """Real images one step consumes: d_steps critic updates, each on its own batch."""
        return self.batch_size * self.d_steps


def update_moving_average(averaged: list, trained: list, decay: float, step) -> None:
    """One step of a network's exponential moving average (Karras et al.'s G_ema), for
    each pair of variables,

        average <- d average + (1 - d) weight,    d = min(decay, (1 + step) / (10 + step))

    (the warm-up of tf.train.ExponentialMovingAverage's num_updates, so that the first
    steps do not keep the initial weights). Called from a method's after_step, in
    cross-replica context."""
    step = tf.cast(step, tf.float32)
    d = tf.minimum(decay, (1.0 + step) / (10.0 + step))
    for average, weight in zip(averaged, trained):
        average.assign(d * average + (1.0 - d) * tf.cast(weight, average.dtype))


def make_optimizer(cfg: TrainSettings, name: str, rate: float | None = None
                   ) -> keras.optimizers.Optimizer:
    """The settings' optimizer at ``rate`` (default: the learning rate)."""
    cfg = cfg.resolved()
    rate = cfg.learning_rate if rate is None else rate
    if cfg.optimizer == "rmsprop":
        return keras.optimizers.RMSprop(rate, name=name)
    return keras.optimizers.Adam(rate, beta_1=cfg.beta1, beta_2=cfg.beta2, name=name)


def make_optimizers(cfg: TrainSettings, updated: keras.Model, critic: keras.Model,
                    loss_scale: bool = False):
    """(g_optimizer, d_optimizer) for the network trained against the critic and the critic;
    ``loss_scale`` wraps both for float16. Call under the strategy's scope."""
    g_optimizer = make_optimizer(cfg, "g_optimizer")
    d_optimizer = make_optimizer(cfg, "d_optimizer", cfg.d_learning_rate)
    if loss_scale:
        g_optimizer = keras.optimizers.LossScaleOptimizer(g_optimizer)
        d_optimizer = keras.optimizers.LossScaleOptimizer(d_optimizer)
    # Build the slots now so that a restore fills them instead of deferring.
    g_optimizer.build(updated.trainable_variables)
    d_optimizer.build(critic.trainable_variables)
    return g_optimizer, d_optimizer


# --- distribution --------------------------------------------------------------------------

def pick_strategy(name: str = "auto") -> tf.distribute.Strategy:
    """auto: MultiWorkerMirrored when TF_CONFIG names a cluster, Mirrored on several GPUs,
    else the default single-device strategy (GPU if TensorFlow sees one, else CPU)."""
    if name == "auto":
        if os.environ.get("TF_CONFIG"):
            name = "multiworker"
        elif len(tf.config.list_logical_devices("GPU")) > 1:
            name = "mirrored"
        else:
            name = "default"
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multiworker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise ValueError(f"unknown strategy {name!r}; choose auto, default, mirrored or multiworker")


def replica_strategy(cfg: TrainSettings, strategy: tf.distribute.Strategy | None):
    """``strategy`` (None: the default one), once the global batch splits evenly across its replicas."""
    strategy = strategy or tf.distribute.get_strategy()
    replicas = strategy.num_replicas_in_sync
    if cfg.batch_size % replicas:
        raise ValueError(f"batch_size {cfg.batch_size} is not divisible by the {replicas} replicas")
    return strategy


def synchronized_bn(replicas: int) -> bool:
    """Batch norm must share its batch statistics across replicas when there are several:
    each replica's share alone is a smaller batch than the run's."""
    return replicas > 1


def is_chief(strategy: tf.distribute.Strategy) -> bool:
    """True unless ``strategy`` is a cluster's and this process is not its chief (the
    worker that writes the run's files)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.cluster_spec().as_dict():
        return True
    task_type, task_id = resolver.task_type, resolver.task_id
    return task_type == "chief" or (task_type == "worker" and task_id == 0
                                    and "chief" not in resolver.cluster_spec().as_dict())


# --- errors --------------------------------------------------------------------------------

class TrainingDiverged(RuntimeError):
    """The losses or the weights stopped being finite (NaN or inf). Nothing non-finite was
    saved: ``last_checkpoint`` (None if none was written) holds the last good weights."""

    def __init__(self, step: int, what: str, last_checkpoint: str | None):
        self.step, self.what, self.last_checkpoint = step, what, last_checkpoint
        kept = (f"the newest checkpoint, {last_checkpoint}, holds the last good weights"
                if last_checkpoint else "no checkpoint had been written yet")
        super().__init__(f"training diverged at step {step}: {what}. Nothing from that step "
                         f"on was saved; {kept}")


class CheckpointRestoreError(ValueError):
    """A run folder holds checkpoints, none of which can be restored; nothing was written."""


def _first_line(error: BaseException, limit: int = 200) -> str:
    text = (str(error).strip().splitlines() or [""])[0]
    text = text if len(text) <= limit else text[:limit] + "..."
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


# --- the run -------------------------------------------------------------------------------

class TrainingRun:
    """The checkpointed state of one training run of ``trainer`` and the loop that advances it.

    Files: ``checkpoint_dir`` receives ``config.json`` and the tf.train checkpoints (the
    trainer's ``checkpointed`` objects under their names, and step, epoch,
    epoch_files_done). Everything else (samples, logs, progress) is the callbacks' business.
    """

    def __init__(self, trainer, checkpoint_dir: str):
        self.trainer = trainer
        self.train_config = trainer.train_config
        self.strategy = trainer.strategy
        self.checkpoint_dir = checkpoint_dir
        self.last_checkpoint = None      # the newest checkpoint restored or written
        self._saved_counters = None      # (step, epoch, files) of last_checkpoint
        with self.strategy.scope():
            self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
            self.epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="epoch")
            self.epoch_files_done = tf.Variable(0, dtype=tf.int64, trainable=False,
                                                name="epoch_files_done")
        self.checkpoint = tf.train.Checkpoint(
            **trainer.checkpointed, step=self.step, epoch=self.epoch,
            epoch_files_done=self.epoch_files_done)
        self._manager = None
        self._step_fn = None

    # --- checkpoints ---------------------------------------------------------------------

    @property
    def manager(self) -> tf.train.CheckpointManager:
        """TF's manager of the checkpoint files, made at the first save: restoring and a
        refused run never write. An index file that is not even text would crash TF's
        constructor; the manager rewrites the index at every save anyway, so such a file
        is removed first (restore has already named it, and the checkpoints it listed stay)."""
        if self._manager is None:
            directory = self._own_checkpoint_dir()
            index = os.path.join(directory, CHECKPOINT_INDEX)
            if os.path.exists(index) and listed_checkpoint(directory)[0] is None:
                os.remove(index)
            self._manager = tf.train.CheckpointManager(
                self.checkpoint, directory, max_to_keep=self.train_config.max_checkpoints)
        return self._manager

    def is_chief(self) -> bool:
        return is_chief(self.strategy)

    def _own_checkpoint_dir(self) -> str:
        """Every worker must save (saving is collective); only the chief's copy is kept."""
        if self.is_chief():
            return self.checkpoint_dir
        resolver = self.strategy.cluster_resolver
        return os.path.join(self.checkpoint_dir, f".{resolver.task_type}-{resolver.task_id}")

    def restore(self) -> bool:
        """Resume from the newest intact checkpoint in checkpoint_dir; False if there is none.

        The checkpoint TF's index file names comes first, then older ones. When the index
        file is missing or unreadable, the ckpt-<step>.index files found are tried newest
        first: a run is never restarted from step 0 over its own checkpoints. A damaged
        checkpoint (unreadable, or holding NaN or inf) is passed over with a warning naming
        it. Raises CheckpointRestoreError, having written nothing, when none can be used.
        """
        found = saved_checkpoints(self.checkpoint_dir)
        if not found:
            return False
        listed, problem = listed_checkpoint(self.checkpoint_dir)
        if listed is None:
            log.warning("%s holds checkpoints but %s; looking for them one by one",
                        self.checkpoint_dir, problem)
            candidates = found
        else:   # a newer ckpt file the index does not list was never committed by TF
            candidates = [listed] + [p for p in found if checkpoint_step(p) < checkpoint_step(listed)]
        problems = []
        for path in candidates:
            problem = self._try_restore(path)
            if problem is None:
                break
            log.warning("skipping checkpoint %s, it is damaged: %s", path, problem)
            problems.append(f"{os.path.basename(path)}: {problem}")
        else:
            raise CheckpointRestoreError(
                f"none of the {len(candidates)} checkpoint(s) in {self.checkpoint_dir} can be "
                f"restored ({'; '.join(problems)}); nothing in it was changed. Restore the "
                "folder from a backup, or train in a new checkpoint folder.")
        if path != listed:
            log.warning("resuming from %s, the newest checkpoint that can be read", path)
        self.last_checkpoint, self._saved_counters = path, self._counters()
        log.info("resumed from %s at step %d (epoch %d)", path, int(self.step.numpy()), int(self.epoch.numpy()))
        return True

    def _try_restore(self, path: str) -> str | None:
        """Restore ``path``; None if that worked, else what is wrong with it."""
        try:
            self.checkpoint.restore(path).assert_existing_objects_matched()
        # TF reports a damaged file as OpError (bad checksum), IndexError (cut short) or
        # ValueError / AssertionError (wrong shapes or objects).
        except (tf.errors.OpError, LookupError, ValueError, AssertionError, OSError) as e:
            return _first_line(e)
        if not self.weights_finite():
            return "it holds non-finite (NaN or inf) weights"
        return None

    def _counters(self) -> tuple[int, int, int]:
        return (int(self.step.numpy()), int(self.epoch.numpy()), int(self.epoch_files_done.numpy()))

    def weights_finite(self) -> bool:
        """Whether every float the checkpoint holds (weights, batch-norm statistics,
        optimizer slots) is finite."""
        for obj in self.trainer.checkpointed.values():
            for v in (obj.weights if isinstance(obj, keras.Model) else obj.variables):
                value = np.asarray(v.numpy() if hasattr(v, "numpy") else v)
                if np.issubdtype(value.dtype, np.floating) and not np.isfinite(value).all():
                    return False
        return True

    def save(self) -> str:
        """Write a checkpoint of the current state; returns its path.

        Nothing is written when the state is the one last restored or saved, and
        TrainingDiverged is raised, with nothing written, when a weight is not finite:
        the newest checkpoint always holds usable weights.
        """
        counters = self._counters()
        if counters == self._saved_counters:
            return self.last_checkpoint
        if not self.weights_finite():
            raise TrainingDiverged(counters[0], "the weights are no longer finite (NaN or inf)",
                                   self.last_checkpoint)
        if hasattr(self.trainer, "before_save"):
            self.trainer.before_save()
        if self.is_chief():
            self.trainer.write_config(self.checkpoint_dir)
        path = self.manager.save(checkpoint_number=counters[0])
        self.last_checkpoint, self._saved_counters = path, counters
        return path

    # --- one step ------------------------------------------------------------------------

    def _make_step_fn(self):
        strategy = self.strategy

        @tf.function
        def step_fn(positions, batch):
            metrics = strategy.run(self.trainer.replica_step, args=(batch, self.step))
            metrics = {k: strategy.reduce(tf.distribute.ReduceOp.SUM, v, axis=None)
                       for k, v in metrics.items()}
            if hasattr(self.trainer, "after_step"):   # cross-replica updates, e.g. an EMA
                self.trainer.after_step(self.step)
            last = tf.reduce_max(strategy.gather(positions, axis=0))  # over all replicas
            # Counters advance inside the same call as the weights: an interrupt between
            # two calls always sees a consistent state.
            self.epoch_files_done.assign(last + 1)
            self.step.assign_add(1)
            return metrics

        return step_fn

    def train_step(self, positions, batch):
        """One step on a distributed batch; returns the mean metrics."""
        if self._step_fn is None:
            self._step_fn = self._make_step_fn()
        return self._step_fn(positions, batch)

    # --- the loop ------------------------------------------------------------------------

    def steps_per_epoch(self, num_files: int) -> int:
        return num_files // self.train_config.images_per_step

    def epoch_dataset(self, paths, epoch: int, start_file: int, report):
        """The distributed dataset for (the rest of) one epoch, in the trainer's batches."""
        cfg, mc = self.train_config, self.trainer.model_config
        per_step = cfg.images_per_step
        remaining = (len(paths) - start_file) // per_step

        def dataset_fn(ctx: tf.distribute.InputContext):
            pipelines = ctx.num_input_pipelines
            clean = data.make_epoch_dataset(
                paths, image_size=mc.image_size, channels=mc.channels,
                batch_size=ctx.get_per_replica_batch_size(per_step), seed=cfg.seed,
                epoch=epoch, start_file=start_file, crop=cfg.crop, flip=cfg.flip,
                num_shards=pipelines, shard_index=ctx.input_pipeline_id,
                # Workers must agree on the step count or their collectives hang.
                num_batches=remaining if pipelines > 1 else None, report=report)
            return self.trainer.batches(clean, epoch)

        return self.strategy.distribute_datasets_from_function(dataset_fn)

    def fit(self, paths: list[str], callbacks=(), report: data.BadFileReport | None = None):
        """Train for train_config.epochs epochs over ``paths``, resuming from the state held.

        Callbacks get ``on_train_begin(run, total_steps)``, ``on_step_end(run, step,
        metrics)`` and ``on_train_end(run)``. KeyboardInterrupt (Ctrl-C, or SIGTERM
        turned into it by the CLI) saves a checkpoint and is re-raised.
        """
        cfg = self.train_config
        report = report if report is not None else data.BadFileReport()
        per_epoch = self.steps_per_epoch(len(paths))
        per_step = cfg.images_per_step
        if per_epoch < 1:
            raise data.DatasetError(
                f"{len(paths)} images are fewer than one step's {per_step} (batch_size x d_steps)")
        total = per_epoch * cfg.epochs
        for cb in callbacks:
            cb.on_train_begin(self, total)
        last_saved = int(self.step.numpy())
        try:
            while int(self.epoch.numpy()) < cfg.epochs:
                epoch, start = int(self.epoch.numpy()), int(self.epoch_files_done.numpy())
                steps = 0
                for positions, batch in self.epoch_dataset(paths, epoch, start, report):
                    metrics = self.train_step(positions, batch)
                    step = int(self.step.numpy())
                    self._check_finite(step, metrics)
                    steps += 1
                    for cb in callbacks:
                        cb.on_step_end(self, step, metrics)
                    if step - last_saved >= cfg.checkpoint_every:
                        self.save()
                        last_saved = step
                if not steps and (len(paths) - start) // per_step:
                    # Every file of the epoch failed to decode: an epoch without a step
                    # must not count, nor be checkpointed as if trained.
                    raise data.DatasetError(_no_step_message(paths, epoch, per_step, report))
                self.epoch.assign_add(1)
                self.epoch_files_done.assign(0)
        except KeyboardInterrupt:
            step = int(self.step.numpy())
            try:
                path = self.save()
                log.warning("interrupted at step %d; checkpoint written to %s", step, path)
            except TrainingDiverged as e:
                log.warning("interrupted at step %d; no checkpoint written: %s", step, e)
            raise
        self.save()
        for cb in callbacks:
            cb.on_train_end(self)

    def _check_finite(self, step: int, metrics: dict) -> None:
        """TrainingDiverged when a loss or score of this step is NaN or inf."""
        values = {name: float(value) for name, value in metrics.items()}
        bad = [f"{name} = {value}" for name, value in values.items() if not math.isfinite(value)]
        if bad:
            raise TrainingDiverged(step, ", ".join(bad), self.last_checkpoint)


def _no_step_message(paths, epoch: int, per_step: int, report: data.BadFileReport) -> str:
    bad = sum(path in report.reasons for path in paths)
    if bad == len(paths):
        return (f"none of the {len(paths)} images could be decoded ({bad} skipped, each "
                "named in a warning); nothing was trained")
    return (f"epoch {epoch + 1} made no training step: {bad} of the {len(paths)} images could "
            f"not be decoded (each named in a warning), leaving fewer than one step's "
            f"{per_step}; nothing of this epoch was trained")


# --- the run folder ------------------------------------------------------------------------

def unconfigured_run(checkpoint_dir: str, error: Exception | None = None) -> ConfigError | None:
    """The error for a folder whose config.json is missing (``error`` None) or unusable, or
    None when it is no saved run: a folder without checkpoints and without a config.

    A folder holding checkpoints must never be trained over as a new run.
    """
    found = saved_checkpoints(checkpoint_dir)
    if error is None and not found:
        return None
    held = (f"holds {len(found)} checkpoint(s) (newest {os.path.basename(found[0])}) but "
            if found else "")
    why = f"{error}" if error is not None else "no config.json"
    if error is None:
        return ConfigError(f"{checkpoint_dir} {held}{why}, so the settings of its run are "
                           "unknown and it can neither be resumed nor trained over. Put back "
                           "the run's config.json, or train in a new checkpoint folder.")
    return ConfigError(f"{checkpoint_dir} {held}cannot be resumed: {why}. Repair or put back "
                       "its config.json, or train in a new checkpoint folder.")


def load_run_config(checkpoint_dir: str, load_model_config, train_cls: type, error: type):
    """(model config, train config) a previous run saved in ``checkpoint_dir``, or None for
    a new run. ``load_model_config(directory)`` reads config.json into (model config, the
    rest); its "train" entry becomes a ``train_cls``.

    Raises ``error`` (a ValueError) when the folder holds checkpoints but no config.json,
    or a config.json that cannot be read (unknown keys and bad values included).
    """
    try:
        model, extra = load_model_config(checkpoint_dir)
        train = extra.get("train", {})
        if not isinstance(train, dict):
            raise error(f"its \"train\" entry is {type(train).__name__}, not a mapping")
        return model, train_cls(**train)
    except FileNotFoundError:
        problem = unconfigured_run(checkpoint_dir)
    except (TypeError, ValueError) as e:     # unknown keys, bad values, not JSON
        problem = unconfigured_run(checkpoint_dir, e)
    if problem is not None:
        raise error(str(problem)) from None
    return None


def record_skipped(report: data.BadFileReport, checkpoint_dir: str) -> str | None:
    """Write the run's list of skipped files, ``checkpoint_dir/skipped_files.txt``; returns
    its path, or None when nothing was skipped and there is no older list. An older list
    is replaced, by an empty one when nothing was skipped this time."""
    path = os.path.join(checkpoint_dir, data.SKIPPED_FILES)
    if report.reasons or os.path.exists(path):
        return report.write(path)
    return None
