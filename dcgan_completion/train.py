"""GAN training: the DCGAN, WGAN and WGAN-GP objectives under any tf.distribute strategy.

One training *step* is one generator iteration: ``d_steps`` discriminator (critic)
updates, each on its own real batch, followed by ``g_steps`` generator updates. The
DCGAN default is 1 and 2 (the original code updated G twice to keep D from winning);
the WGAN objectives use 5 critic updates per generator update.

Everything that makes a run reproducible is stateless or checkpointed: z and the
gradient-penalty mixing are drawn from (seed, step, replica), the data order from
(seed, epoch), and the checkpoint holds both networks, both optimizers, the step, the
epoch and the files consumed in that epoch. A resumed run therefore continues exactly
where the interrupted one stopped.
"""

from __future__ import annotations

import dataclasses
import logging
import os

import keras
import tensorflow as tf

from . import data, losses
from .config import ModelConfig, load_config, save_config
from .model import build_discriminator, build_generator, sample_z

log = logging.getLogger(__name__)

# Published defaults of each objective, used for any setting the user leaves unset.
#   dcgan:   Radford et al. 2015 (Adam 2e-4, beta1 0.5); 2 G updates per D update as in
#            the original DCGAN-tensorflow code.
#   wgan:    Arjovsky et al. 2017 (RMSProp 5e-5, clip 0.01, 5 critic steps).
#   wgan-gp: Gulrajani et al. 2017 (Adam 1e-4, betas 0 / 0.9, lambda 10, 5 critic steps).
LOSS_DEFAULTS = {
    "dcgan": dict(optimizer="adam", learning_rate=2e-4, beta1=0.5, beta2=0.999,
                  d_steps=1, g_steps=2, clip_value=None, gp_weight=None),
    "wgan": dict(optimizer="rmsprop", learning_rate=5e-5, beta1=None, beta2=None,
                 d_steps=5, g_steps=1, clip_value=0.01, gp_weight=None),
    "wgan-gp": dict(optimizer="adam", learning_rate=1e-4, beta1=0.0, beta2=0.9,
                    d_steps=5, g_steps=1, clip_value=None, gp_weight=10.0),
}


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Training settings. ``None`` means: the chosen loss's published default."""
    loss: str = "dcgan"
    epochs: int = 25
    batch_size: int = 64               # global batch, split across replicas
    learning_rate: float | None = None
    beta1: float | None = None
    beta2: float | None = None
    d_steps: int | None = None
    g_steps: int | None = None
    clip_value: float | None = None
    gp_weight: float | None = None
    train_size: int | None = None      # use at most this many images
    seed: int = 0
    flip: bool = True
    crop: bool = False
    checkpoint_every: int = 500        # steps
    max_checkpoints: int = 3

    def __post_init__(self):
        if self.loss not in LOSS_DEFAULTS:
            raise ValueError(f"unknown loss {self.loss!r}; choose from {', '.join(LOSS_DEFAULTS)}")
        for name in ("epochs", "batch_size", "checkpoint_every", "max_checkpoints"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")

    def resolved(self) -> "TrainConfig":
        """A copy with every unset setting filled from the loss's defaults."""
        defaults = LOSS_DEFAULTS[self.loss]
        changes = {k: defaults[k] for k in defaults
                   if k != "optimizer" and getattr(self, k) is None}
        return dataclasses.replace(self, **changes)

    @property
    def optimizer(self) -> str:
        return LOSS_DEFAULTS[self.loss]["optimizer"]


def make_optimizer(cfg: TrainConfig, name: str) -> keras.optimizers.Optimizer:
    cfg = cfg.resolved()
    if cfg.optimizer == "rmsprop":
        return keras.optimizers.RMSprop(cfg.learning_rate, name=name)
    return keras.optimizers.Adam(cfg.learning_rate, beta_1=cfg.beta1, beta_2=cfg.beta2, name=name)


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


def _clip_weights(variables, value):
    """WGAN's Lipschitz constraint: clip every critic parameter to [-value, value].

    Runs in cross-replica context through merge_call, as the optimizer's own updates do,
    so that mirrored variables stay identical on every replica.
    """
    def clip_all(strategy):
        for v in variables:
            v = v.value if isinstance(v, keras.Variable) else v
            strategy.extended.update(
                v, lambda var: var.assign(tf.clip_by_value(var, -value, value)), group=False)

    tf.distribute.get_replica_context().merge_call(clip_all)


class GANTrainer:
    """Owns the networks, optimizers and the checkpointed state of one training run.

    Files: ``checkpoint_dir`` receives ``config.json`` and the tf.train checkpoints.
    Everything else (samples, logs, progress) is the callbacks' business.
    """

    def __init__(self, model_config: ModelConfig, train_config: TrainConfig,
                 checkpoint_dir: str, strategy: tf.distribute.Strategy | None = None):
        self.train_config = train_config.resolved()
        self.strategy = strategy or tf.distribute.get_strategy()
        replicas = self.strategy.num_replicas_in_sync
        if self.train_config.batch_size % replicas:
            raise ValueError(f"batch_size {self.train_config.batch_size} is not divisible "
                             f"by the {replicas} replicas")
        if self.train_config.loss == "wgan-gp":
            model_config = model_config.replace(critic_batch_norm=False)
        if replicas > 1:
            model_config = model_config.replace(synchronized_bn=True)
        self.model_config = model_config
        self.checkpoint_dir = checkpoint_dir
        self._build()

    # --- state -------------------------------------------------------------------------

    def _build(self):
        cfg = self.train_config
        keras.utils.set_random_seed(cfg.seed)   # seeds the initialisers (tf.random.set_seed does not)
        with self.strategy.scope():
            self.generator = build_generator(self.model_config)
            self.discriminator = build_discriminator(self.model_config)
            self.g_optimizer = make_optimizer(cfg, "g_optimizer")
            self.d_optimizer = make_optimizer(cfg, "d_optimizer")
            if self.model_config.dtype_policy == "mixed_float16":
                self.g_optimizer = keras.optimizers.LossScaleOptimizer(self.g_optimizer)
                self.d_optimizer = keras.optimizers.LossScaleOptimizer(self.d_optimizer)
            # Build the slots now so that a restore fills them instead of deferring.
            self.g_optimizer.build(self.generator.trainable_variables)
            self.d_optimizer.build(self.discriminator.trainable_variables)
        self._track(generator=self.generator, discriminator=self.discriminator,
                    g_optimizer=self.g_optimizer, d_optimizer=self.d_optimizer)

    def _track(self, **objects):
        """The run's counters (step, epoch, files consumed in the epoch) and the checkpoint
        that holds them with ``objects`` (networks and optimizers)."""
        with self.strategy.scope():
            self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
            self.epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="epoch")
            self.epoch_files_done = tf.Variable(0, dtype=tf.int64, trainable=False,
                                                name="epoch_files_done")
        self.checkpoint = tf.train.Checkpoint(
            **objects, step=self.step, epoch=self.epoch, epoch_files_done=self.epoch_files_done)
        self.manager = tf.train.CheckpointManager(
            self.checkpoint, self._own_checkpoint_dir(),
            max_to_keep=self.train_config.max_checkpoints)
        self._step_fn = None

    def is_chief(self) -> bool:
        resolver = getattr(self.strategy, "cluster_resolver", None)
        if resolver is None or not resolver.cluster_spec().as_dict():
            return True
        task_type, task_id = resolver.task_type, resolver.task_id
        return task_type == "chief" or (task_type == "worker" and task_id == 0
                                        and "chief" not in resolver.cluster_spec().as_dict())

    def _own_checkpoint_dir(self) -> str:
        """Every worker must save (saving is collective); only the chief's copy is kept."""
        if self.is_chief():
            return self.checkpoint_dir
        resolver = self.strategy.cluster_resolver
        return os.path.join(self.checkpoint_dir, f".{resolver.task_type}-{resolver.task_id}")

    def restore(self) -> bool:
        """Resume from the newest checkpoint in checkpoint_dir; False if there is none."""
        latest = tf.train.latest_checkpoint(self.checkpoint_dir)
        if latest is None:
            return False
        self.checkpoint.restore(latest).assert_existing_objects_matched()
        log.info("resumed from %s at step %d (epoch %d)", latest, int(self.step.numpy()), int(self.epoch.numpy()))
        return True

    def save(self) -> str:
        if self.is_chief():
            save_config(self.model_config, self.checkpoint_dir,
                        {"train": dataclasses.asdict(self.train_config)})
        return self.manager.save(checkpoint_number=int(self.step.numpy()))

    # --- one step ------------------------------------------------------------------------

    def _replica_step(self, real, step):
        """real: (d_steps * b, H, W, C), this replica's share; returns per-replica sums / B."""
        cfg = self.train_config
        G, D = self.generator, self.discriminator
        global_batch = cfg.batch_size
        ctx = tf.distribute.get_replica_context()
        replica = tf.cast(ctx.replica_id_in_sync_group, tf.int64)
        seed = tf.random.experimental.stateless_fold_in(
            tf.constant([cfg.seed, 0], tf.int64), step)
        seed = tf.random.experimental.stateless_fold_in(seed, replica)
        per_replica = tf.shape(real)[0] // cfg.d_steps
        z_dim = self.model_config.z_dim

        def per_example_mean(values):          # sum over this replica / global batch
            return tf.reduce_sum(values) / global_batch

        for k in range(cfg.d_steps):           # critic updates, each on its own real batch
            x = real[k * per_replica:(k + 1) * per_replica]             # (b, H, W, C)
            z = sample_z(per_replica, z_dim, tf.random.experimental.stateless_fold_in(seed, k))
            with tf.GradientTape() as tape:
                fake = G(z, training=True)                               # (b, H, W, C)
                real_logits = D(x, training=True)                        # (b, 1)
                fake_logits = D(fake, training=True)
                d_loss = per_example_mean(losses.discriminator_loss(cfg.loss, real_logits,
                                                                    fake_logits))
                total = d_loss
                if cfg.gp_weight:
                    eps = tf.random.stateless_uniform(
                        (per_replica, 1, 1, 1),
                        tf.random.experimental.stateless_fold_in(seed, 1000 + k))
                    gp = per_example_mean(losses.gradient_penalty(D, x, fake, eps))
                    total = d_loss + cfg.gp_weight * gp
                scaled = self._scale(self.d_optimizer, total)
            grads = tape.gradient(scaled, D.trainable_variables)
            self.d_optimizer.apply_gradients(zip(grads, D.trainable_variables))
            if cfg.clip_value:
                _clip_weights(D.trainable_variables, cfg.clip_value)

        for _ in range(cfg.g_steps):           # generator updates on the last z
            with tf.GradientTape() as tape:
                fake = G(z, training=True)
                fake_logits = D(fake, training=True)
                g_loss = per_example_mean(losses.generator_loss(cfg.loss, fake_logits))
                scaled = self._scale(self.g_optimizer, g_loss)
            grads = tape.gradient(scaled, G.trainable_variables)
            self.g_optimizer.apply_gradients(zip(grads, G.trainable_variables))

        # D(x) and D(G(z)) as probabilities for the DCGAN, raw critic scores otherwise.
        score = tf.sigmoid if cfg.loss == "dcgan" else tf.identity
        return {"d_loss": d_loss, "g_loss": g_loss,
                "d_real": per_example_mean(score(real_logits)),
                "d_fake": per_example_mean(score(fake_logits))}

    @staticmethod
    def _scale(optimizer, loss):
        if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
            return optimizer.scale_loss(loss)
        return loss

    def _make_step_fn(self):
        strategy = self.strategy

        @tf.function
        def step_fn(positions, real):
            metrics = strategy.run(self._replica_step, args=(real, self.step))
            metrics = {k: strategy.reduce(tf.distribute.ReduceOp.SUM, v, axis=None)
                       for k, v in metrics.items()}
            last = tf.reduce_max(strategy.gather(positions, axis=0))  # over all replicas
            # Counters advance inside the same call as the weights: an interrupt between
            # two calls always sees a consistent state.
            self.epoch_files_done.assign(last + 1)
            self.step.assign_add(1)
            return metrics

        return step_fn

    def train_step(self, positions, real):
        """One generator iteration on a distributed batch; returns the mean metrics."""
        if self._step_fn is None:
            self._step_fn = self._make_step_fn()
        return self._step_fn(positions, real)

    # --- the loop ----------------------------------------------------------------------

    def steps_per_epoch(self, num_files: int) -> int:
        return num_files // (self.train_config.batch_size * self.train_config.d_steps)

    def epoch_dataset(self, paths, epoch: int, start_file: int, report):
        """The distributed dataset for (the rest of) one epoch."""
        cfg = self.train_config
        mc = self.model_config
        per_step = cfg.batch_size * cfg.d_steps
        remaining = (len(paths) - start_file) // per_step

        def dataset_fn(ctx: tf.distribute.InputContext):
            pipelines = ctx.num_input_pipelines
            return data.make_epoch_dataset(
                paths, image_size=mc.image_size, channels=mc.channels,
                batch_size=ctx.get_per_replica_batch_size(per_step), seed=cfg.seed,
                epoch=epoch, start_file=start_file, crop=cfg.crop, flip=cfg.flip,
                num_shards=pipelines, shard_index=ctx.input_pipeline_id,
                # Workers must agree on the step count or their collectives hang.
                num_batches=remaining if pipelines > 1 else None, report=report)

        return self.strategy.distribute_datasets_from_function(dataset_fn)

    def fit(self, paths: list[str], callbacks=(), report: data.BadFileReport | None = None):
        """Train for train_config.epochs epochs over ``paths``, resuming from the state held.

        Callbacks get ``on_train_begin(trainer, total_steps)``, ``on_step_end(trainer, step,
        metrics)`` and ``on_train_end(trainer)``. KeyboardInterrupt (Ctrl-C, or SIGTERM
        turned into it by the CLI) saves a checkpoint and is re-raised.
        """
        cfg = self.train_config
        report = report if report is not None else data.BadFileReport()
        per_epoch = self.steps_per_epoch(len(paths))
        if per_epoch < 1:
            raise data.DatasetError(
                f"{len(paths)} images are fewer than one step's "
                f"{cfg.batch_size * cfg.d_steps} (batch_size x d_steps)")
        total = per_epoch * cfg.epochs
        for cb in callbacks:
            cb.on_train_begin(self, total)
        last_saved = int(self.step.numpy())
        try:
            while int(self.epoch.numpy()) < cfg.epochs:
                epoch = int(self.epoch.numpy())
                dataset = self.epoch_dataset(paths, epoch, int(self.epoch_files_done.numpy()), report)
                for positions, real in dataset:
                    metrics = self.train_step(positions, real)
                    step = int(self.step.numpy())
                    for cb in callbacks:
                        cb.on_step_end(self, step, metrics)
                    if step - last_saved >= cfg.checkpoint_every:
                        self.save()
                        last_saved = step
                self.epoch.assign_add(1)
                self.epoch_files_done.assign(0)
        except KeyboardInterrupt:
            path = self.save()
            log.warning("interrupted at step %d; checkpoint written to %s", int(self.step.numpy()), path)
            raise
        self.save()
        for cb in callbacks:
            cb.on_train_end(self)

    def sample(self, z) -> tf.Tensor:
        """G(z) in inference mode (batch norm uses its moving averages)."""
        return self.generator(z, training=False)


def load_trainer_config(checkpoint_dir: str) -> tuple[ModelConfig, TrainConfig] | None:
    """The configs a previous run saved in ``checkpoint_dir``, or None for a new run."""
    try:
        model, extra = load_config(checkpoint_dir)
    except FileNotFoundError:
        return None
    return model, TrainConfig(**extra.get("train", {}))

