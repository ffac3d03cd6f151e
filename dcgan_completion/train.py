"""The DCGAN method: the DCGAN, WGAN and WGAN-GP objectives, trained by engine.TrainingRun.

This module holds what is the DCGAN's own: its settings (TrainConfig, each loss's published
defaults), the model config a run trains (resolve_model_config), and GANTrainer, which
builds G, D and their optimizers and supplies the replica step; the loop, checkpoints and
tf.distribute handling are the engine's (engine.py).

One training *step* is one generator iteration: ``d_steps`` discriminator (critic)
updates, each on its own real batch, followed by ``g_steps`` generator updates. The
DCGAN default is 1 and 2 (the original code updated G twice to keep D from winning);
the WGAN objectives use 5 critic updates per generator update.

Options for small face sets (issue 12), off by default until measured:
  augment  DiffAugment (augment.py; Zhao et al. 2020): every image D sees, real and
           generated, in both updates, is augmented with the same differentiable policy.
  ema      an exponential moving average of G's weights (Karras et al.'s G_ema, decay
           around 0.999), updated after every step, kept in the checkpoint as
           ``generator_ema`` and used for samples, export and completion. Its batch-norm
           statistics are recomputed for its own weights (model.standing_statistics)
           before every sample grid and every checkpoint.
  r1       the R1 penalty on D at the real images (Mescheder et al. 2018), weight gamma/2.
  hinge    the hinge loss (--loss hinge), and d_learning_rate for D's own learning rate
           (the two time-scale update rule) are there to be compared too.
  init_from  a new run's G and D (and G's moving average) start from a weights file's,
           e.g. the bundled model's, instead of random weights: fine-tuning on new faces.
           The optimizers start fresh; a resumed run ignores it (its checkpoint has all).
  grow_from  a new run of size S starts from a weights file of size S/2 grown by one block
           at each end (progressive growing, Karras et al. 2018; model.fading_models): G and
           D train through their fading versions, the new blocks blended in with alpha
           going from 0 to 1 over ``fade_steps`` steps (the real images' new detail with
           them: model.fade_reals), then on as a plain model. Exports and completion use
           the grown model's own path (alpha 1) throughout; the samples show the fading G
           as D sees it (with ema, a moving average of the fading G, the smaller model's
           output layer included).

Everything that makes a run reproducible is stateless or checkpointed: z, the
gradient-penalty mixing and the augmentations are drawn from (seed, step, replica), the
data order from (seed, epoch), and the checkpoint holds the networks, both optimizers,
the step, the epoch and the files consumed in that epoch. A resumed run therefore
continues exactly where the interrupted one stopped.
"""

from __future__ import annotations

import dataclasses

import keras
import tensorflow as tf

from . import augment, losses
from .checkpoints import BUNDLED_WEIGHTS, CheckpointError, load_weights_file
from .config import ConfigError, ModelConfig, load_config, save_config
from .engine import (TrainingRun, TrainSettings, check_settings, load_run_config,
                     make_optimizers, replica_strategy, synchronized_bn, update_moving_average)
from .model import (build_discriminator, build_generator, fade_reals, fading_generator,
                    fading_models, grow_weights, sample_z, set_fade, standing_statistics)

# Published defaults of each objective, used for any setting the user leaves unset.
#   dcgan:   Radford et al. 2015 (Adam 2e-4, beta1 0.5); 2 G updates per D update as in
#            the original DCGAN-tensorflow code.
#   wgan:    Arjovsky et al. 2017 (RMSProp 5e-5, clip 0.01, 5 critic steps).
#   wgan-gp: Gulrajani et al. 2017 (Adam 1e-4, betas 0 / 0.9, lambda 10, 5 critic steps).
#   hinge:   the hinge loss (losses.py) with the DCGAN's Adam settings, one update of each.
LOSS_DEFAULTS = {
    "dcgan": dict(optimizer="adam", learning_rate=2e-4, beta1=0.5, beta2=0.999,
                  d_steps=1, g_steps=2, clip_value=None, gp_weight=None),
    "wgan": dict(optimizer="rmsprop", learning_rate=5e-5, beta1=None, beta2=None,
                 d_steps=5, g_steps=1, clip_value=0.01, gp_weight=None),
    "wgan-gp": dict(optimizer="adam", learning_rate=1e-4, beta1=0.0, beta2=0.9,
                    d_steps=5, g_steps=1, clip_value=None, gp_weight=10.0),
    "hinge": dict(optimizer="adam", learning_rate=2e-4, beta1=0.5, beta2=0.999,
                  d_steps=1, g_steps=1, clip_value=None, gp_weight=None),
}

# The moving average's batch-norm statistics come from this many batches of fixed z
# (BigGAN used 16 or more); the z stream is the seed's own, apart from training's.
STANDING_BATCHES = 16
_STANDING_STREAM = 7_000


@dataclasses.dataclass(frozen=True)
class TrainConfig(TrainSettings):
    """Training settings. ``None`` means: the chosen loss's published default."""
    LOSS_DEFAULTS = LOSS_DEFAULTS
    NONNEGATIVE = ("clip_value", "gp_weight")

    loss: str = "dcgan"
    clip_value: float | None = None
    augment: str = ""                  # DiffAugment policy, e.g. "color,translation,cutout"; "" = none
    ema: float = 0.0                   # decay of G's moving average, in [0, 1); 0 = none
    r1: float = 0.0                    # R1 penalty weight gamma (D's loss + gamma/2 R1); 0 = none
    init_from: str = ""                # weights file (.npz) a new run starts from, or "bundled"; "" = random
    grow_from: str = ""                # weights file of a model half the size to grow, or "bundled"
    fade_steps: int = 2000             # steps over which a grown model's new blocks fade in

    def __post_init__(self):
        super().__post_init__()
        for name in ("init_from", "grow_from"):
            if not isinstance(getattr(self, name), str):
                raise ValueError(f"{name} must be a weights file's path, got "
                                 f"{getattr(self, name)!r}")
        if self.init_from and self.grow_from:
            raise ValueError("a run starts from one weights file: give init_from (the same "
                             "size) or grow_from (half the size), not both")
        check_settings(self, counts=("fade_steps",))
        if not isinstance(self.augment, str):
            raise ValueError(f"augment must be a comma-separated text, got {self.augment!r}")
        augment.check_policy(self.augment_policy)
        check_settings(self, betas=("ema",), nonnegative=("r1",))
        for name in ("ema", "r1"):
            if getattr(self, name) is None:
                raise ValueError(f"{name} must be a finite number, got None")

    @property
    def augment_policy(self) -> tuple[str, ...]:
        """The DiffAugment transformations, in order; () for none."""
        return tuple(name.strip() for name in self.augment.split(",") if name.strip())


# Seed streams folded into each step's seed, per critic update k or generator update j:
# z uses k itself and the gradient-penalty mixing 1000 + k (as before the augmentations).
_REAL, _FAKE, _G_FAKE = 2000, 3000, 4000


def resolve_model_config(model_config: ModelConfig, train_config: TrainConfig,
                         replicas: int) -> ModelConfig:
    """The model config a run trains, a copy of ``model_config``: the critic without batch
    norm for WGAN-GP (its gradient penalty is per example, batch norm mixes the examples),
    and synchronized batch norm with several replicas."""
    if train_config.loss == "wgan-gp":
        model_config = model_config.replace(critic_batch_norm=False)
    if synchronized_bn(replicas):
        model_config = model_config.replace(synchronized_bn=True)
    return model_config


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
    """G, D and their optimizers, and the DCGAN's replica step; ``run`` (an
    engine.TrainingRun) holds the counters and checkpoints and trains them.

    ``model_config`` is the config the networks were built from (resolve_model_config);
    ``checkpoint_dir`` receives config.json and the checkpoints of generator,
    discriminator, g_optimizer and d_optimizer.
    """

    def __init__(self, model_config: ModelConfig, train_config: TrainConfig,
                 checkpoint_dir: str, strategy: tf.distribute.Strategy | None = None):
        self.train_config = cfg = train_config.resolved()
        self.strategy = replica_strategy(cfg, strategy)
        self.model_config = resolve_model_config(model_config, cfg,
                                                 self.strategy.num_replicas_in_sync)
        keras.utils.set_random_seed(cfg.seed)   # seeds the initialisers (tf.random.set_seed does not)
        with self.strategy.scope():
            self.generator = build_generator(self.model_config)
            self.discriminator = build_discriminator(self.model_config)
            # What the steps train: G and D, or, growing, their fading versions.
            self.stepped, self.fades = (self.generator, self.discriminator), []
            if cfg.grow_from:
                *self.stepped, self.fades = fading_models(self.generator, self.discriminator)
            self.g_optimizer, self.d_optimizer = make_optimizers(
                cfg, *self.stepped, loss_scale=self.model_config.dtype_policy == "mixed_float16")
            # Built last, so that G's and D's initial weights do not depend on it.
            self.generator_ema = build_generator(self.model_config) if cfg.ema else None
            # Growing with a moving average: one of the fading G too, for the samples.
            self.ema_fading = None
            if self.fades and self.generator_ema is not None:
                self.ema_fading, fade = fading_generator(self.generator_ema)
                self.fades.append(fade)
        self.checkpointed = dict(generator=self.generator, discriminator=self.discriminator,
                                 g_optimizer=self.g_optimizer, d_optimizer=self.d_optimizer)
        if self.fades:      # the smaller model's layers and alpha, shared layers saved once
            self.checkpointed.update(generator_fading=self.stepped[0],
                                     discriminator_fading=self.stepped[1])
        if self.generator_ema is not None:
            self.generator_ema.set_weights(self.generator.get_weights())
            self.checkpointed["generator_ema"] = self.generator_ema
        if self.ema_fading is not None:
            self.ema_fading.set_weights(self.stepped[0].get_weights())
            self.checkpointed["generator_ema_fading"] = self.ema_fading
        self.run = TrainingRun(self, checkpoint_dir)

    @property
    def final_generator(self) -> keras.Model:
        """The generator that samples, exports and completion use: the moving average
        when the run keeps one, else G itself."""
        return self.generator if self.generator_ema is None else self.generator_ema

    def start_new_run(self) -> None:
        """Before a new run's first step: with ``init_from``, G, D and G's moving average
        take the weights file's weights (its batch-norm statistics included); with
        ``grow_from``, those of a model half the size, grown (model.grow_weights). The
        file's model must be the run's (half its size for grow_from): the same widths,
        z_dim and channels, and batch norm in D or not alike. CheckpointError (a
        ValueError naming the file) otherwise; nothing is changed then."""
        cfg = self.train_config
        setting = "grow_from" if cfg.grow_from else "init_from"
        path = cfg.grow_from or cfg.init_from
        if not path:
            return
        path = BUNDLED_WEIGHTS if path == "bundled" else path
        config, generator, discriminator = load_weights_file(path)
        wanted = self.model_config
        if cfg.grow_from:
            wanted = wanted.replace(image_size=max(8, wanted.image_size // 2))
        differ = wanted.differences(config)
        if differ:
            what = (f"the {wanted.image_size}x{wanted.image_size} model that this "
                    f"{self.model_config.image_size}x{self.model_config.image_size} run grows"
                    if cfg.grow_from else "this run trains")
            raise CheckpointError(f"{path} holds another model than {what}: "
                                  f"{'; '.join(differ)}", setting=setting)
        if cfg.grow_from:
            try:
                grow_weights(generator, discriminator, *self.stepped)
            except ValueError as e:
                raise CheckpointError(f"{path} cannot be grown: {e}", setting=setting) from e
        else:
            self.generator.set_weights(generator.get_weights())
            self.discriminator.set_weights(discriminator.get_weights())
        if self.ema_fading is not None:       # the smaller model's output layer too
            self.ema_fading.set_weights(self.stepped[0].get_weights())
        elif self.generator_ema is not None:
            self.generator_ema.set_weights(self.generator.get_weights())

    def write_config(self, directory: str) -> None:
        save_config(self.model_config, directory, {"train": dataclasses.asdict(self.train_config)})

    def batches(self, dataset: tf.data.Dataset, epoch: int) -> tf.data.Dataset:
        """The DCGAN trains on the real batches as they are: (positions, x)."""
        return dataset

    # --- one step ------------------------------------------------------------------------

    def replica_step(self, real, step):
        """real: (d_steps * b, H, W, C), this replica's share; returns per-replica sums / B."""
        cfg = self.train_config
        G, D = self.stepped
        global_batch = cfg.batch_size
        ctx = tf.distribute.get_replica_context()
        replica = tf.cast(ctx.replica_id_in_sync_group, tf.int64)
        seed = tf.random.experimental.stateless_fold_in(
            tf.constant([cfg.seed, 0], tf.int64), step)
        seed = tf.random.experimental.stateless_fold_in(seed, replica)
        per_replica = tf.shape(real)[0] // cfg.d_steps
        z_dim = self.model_config.z_dim
        policy = cfg.augment_policy

        def per_example_mean(values):          # sum over this replica / global batch
            return tf.reduce_sum(values) / global_batch

        def seen(images, stream):              # what D sees: real and fake augmented alike
            if not policy:
                return images
            return augment.diff_augment(images, policy,
                                        tf.random.experimental.stateless_fold_in(seed, stream))

        for k in range(cfg.d_steps):           # critic updates, each on its own real batch
            x = real[k * per_replica:(k + 1) * per_replica]             # (b, H, W, C)
            if self.fades:                     # growing: the reals' detail fades in too
                x = fade_reals(x, self.fades[0].alpha)
            z = sample_z(per_replica, z_dim, tf.random.experimental.stateless_fold_in(seed, k))
            with tf.GradientTape() as tape:
                fake = seen(G(z, training=True), _FAKE + k)              # (b, H, W, C)
                x = seen(x, _REAL + k)
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
                if cfg.r1:
                    total = total + cfg.r1 / 2 * per_example_mean(losses.r1_penalty(D, x))
                scaled = self._scale(self.d_optimizer, total)
            grads = tape.gradient(scaled, D.trainable_variables)
            self.d_optimizer.apply_gradients(zip(grads, D.trainable_variables))
            if cfg.clip_value:
                _clip_weights(D.trainable_variables, cfg.clip_value)

        for j in range(cfg.g_steps):           # generator updates on the last z
            with tf.GradientTape() as tape:
                fake = seen(G(z, training=True), _G_FAKE + j)
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

    def after_step(self, step) -> None:
        """After each step, in cross-replica context: the generator's moving average

            ema <- d ema + (1 - d) G,    d = min(decay, (1 + step) / (10 + step))

        (the warm-up of tf.train.ExponentialMovingAverage's num_updates, so that the first
        steps do not keep the random initial weights), over the trainable weights; the
        batch-norm statistics are the business of refresh_statistics. A growing run sets
        alpha to min(1, (step + 1) / fade_steps) for the next step."""
        if self.fades:
            set_fade(self.fades, tf.cast(step + 1, tf.float32) / self.train_config.fade_steps)
        if self.generator_ema is None:
            return
        averaged, trained = self.generator_ema, self.generator
        if self.ema_fading is not None:          # G's weights and the smaller model's end
            averaged, trained = self.ema_fading, self.stepped[0]
        update_moving_average(averaged.trainable_weights, trained.trainable_weights,
                              self.train_config.ema, step)

    def standing_z(self) -> list[tf.Tensor]:
        """The fixed z batches that the moving average's statistics are measured on."""
        cfg = self.train_config
        seed = tf.constant([cfg.seed, _STANDING_STREAM], tf.int64)
        return [sample_z(cfg.batch_size, self.model_config.z_dim,
                         tf.random.experimental.stateless_fold_in(seed, k))
                for k in range(STANDING_BATCHES)]

    def before_save(self) -> None:
        self.refresh_statistics()

    def refresh_statistics(self) -> None:
        """Recompute the moving average's batch-norm statistics for its current weights
        (model.standing_statistics); nothing to do without a moving average.

        They are measured on a plain single-device copy, so that no strategy or
        synchronised batch norm is involved, and assigned back. Training never reads
        them, so a resumed run continues exactly all the same."""
        if self.generator_ema is None:
            return
        plain = build_generator(self.model_config.replace(synchronized_bn=False))
        plain.set_weights(self.generator_ema.get_weights())
        standing_statistics(plain, self.standing_z())
        for target, source in zip(self.generator_ema.non_trainable_weights,
                                  plain.non_trainable_weights):
            target.assign(source)

    @staticmethod
    def _scale(optimizer, loss):
        if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
            return optimizer.scale_loss(loss)
        return loss

    def sample(self, z) -> tf.Tensor:
        """G(z) of the final generator in inference mode (batch norm uses its moving
        averages; the moving average's are refreshed first); growing, of its fading
        version, as D sees it."""
        self.refresh_statistics()
        if self.fades:
            return (self.ema_fading or self.stepped[0])(z, training=False)
        return self.final_generator(z, training=False)


def load_trainer_config(checkpoint_dir: str) -> tuple[ModelConfig, TrainConfig] | None:
    """The configs a previous run saved in ``checkpoint_dir``, or None for a new run.

    Raises ConfigError when the folder holds checkpoints but no config.json, or a
    config.json that cannot be read.
    """
    return load_run_config(checkpoint_dir, load_config, TrainConfig, ConfigError)
