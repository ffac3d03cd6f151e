"""Training a completion network from incomplete images only (AmbientGAN + GLCIC).

Every training image is measured in the input pipeline before anything else sees it,
y = f_theta(x) (measurements.py): the dataset yields (positions, (y, M)) and drops x, so
the networks and the losses only ever receive measured images. One critic update, on a
batch (y, M) of measured images:

    x_hat  = net([y, M])                       the completion, known pixels of y kept
    M'     ~ the measurement, fresh            y_hat = M' x_hat + (1 - M') fill
    real   = critic([y, window around a hole drawn from the measurement])
    fake   = critic([y_hat, window around M's hole, the region the net filled])
    WGAN-GP: L_D = mean(fake - real) + 10 mean((||grad critic(eps y + (1-eps) y_hat)|| - 1)^2)
    GAN:     L_D = mean(softplus(-real) + softplus(fake))

and the network minimises -mean(fake) (WGAN-GP) or mean(softplus(-fake)) (GAN), plus
rec_weight x a self-supervised reconstruction term when rec_weight > 0 (the default):

    M2     ~ the measurement, fresh            a second, artificial hole
    x_hat  = net([y, M M2])                    the input misses both holes
    L_rec  = mean |x_hat - y| over the pixels with M (1 - M2) = 1: known in y, hidden by M2

so the network is also told what belongs in holes whose content the data does hold, and
still never sees a clean image. With rec_weight > 0 the critic's fakes are completions of
(y, M M2) as well, so that the critic judges what the network is trained on. The
critic thus only ever compares measured with re-measured images (Bora et al., ICLR 2018):
if the re-measured completions are distributed as the measured data, so are the
completions as the clean data, for measurements like these. The local window of a real
image is placed on a hole drawn independently of its own, just as the fake's window is
independent of its fresh measurement M'.

This module holds the method's own parts: its settings (CompletionTrainConfig), the
measured input pipeline (measured_batches), CompletionTrainer, which builds the network,
the critic and their optimizers and supplies the replica step above, and the sample grids
and TensorBoard images of its runs. The loop, checkpoints, exact resume and tf.distribute
handling are the engine's (engine.TrainingRun), which the trainer hands itself to; the
step's randomness is stateless, from (seed, step, replica).

A new run may start its network from another's weights (init_from), of any image size:
the network is fully convolutional, so e.g. the bundled 64x64 network starts a 128x128
run; the critic, whose layers depend on the size, starts fresh.

With ema > 0 the run also keeps an exponential moving average of the network's weights
(engine.update_moving_average, as the DCGAN's moving average of G), batch-norm
statistics included: every weight of the network, averaged as the mean of checkpoints
was (dev/runs/average-weights.py, which measured 0.28 dB of mean hole PSNR above the
best single checkpoint of the 128-px network, whose checkpoints swing against the
critic). The average is the run's network for samples, export and completion.
"""

from __future__ import annotations

import dataclasses
import logging

import keras
import numpy as np
import tensorflow as tf

from .. import data, images, losses
from ..checkpoints import CheckpointError
from ..engine import (TrainingRun, TrainSettings, check_settings, load_run_config,
                      make_optimizers, replica_strategy, synchronized_bn,
                      update_moving_average)
from .networks import (CompletionConfig, CompletionConfigError, build_completion_net,
                       build_critic, hole_window_offsets, load_completion_config,
                       save_completion_config)
from .weights import BUNDLED_NETWORK, EMA_NAME, NET_NAME, load_completion_net

log = logging.getLogger(__name__)

# Published defaults of each objective, used for any setting the user leaves unset.
#   wgan-gp: Gulrajani et al. 2017 (Adam 1e-4, betas 0 / 0.9, lambda 10, 5 critic steps).
#   gan:     non-saturating GAN with the DCGAN's Adam 2e-4 / beta1 0.5, one step each.
LOSS_DEFAULTS = {
    "wgan-gp": dict(optimizer="adam", learning_rate=1e-4, beta1=0.0, beta2=0.9, d_steps=5,
                    g_steps=1, gp_weight=10.0),
    "gan": dict(optimizer="adam", learning_rate=2e-4, beta1=0.5, beta2=0.999, d_steps=1,
                g_steps=1, gp_weight=None),
}
# Weight of the reconstruction term L_rec (a per-pixel mean absolute error) against the
# adversarial loss. A 28x28x3 hole's L_rec has gradient norm rec_weight / sqrt(2352) ~
# rec_weight / 48 with respect to the completion; a WGAN-GP critic's is ~1 near the
# interpolates but can be larger at the fakes. With 100 the adversarial term took over on
# CelebA after ~400 steps (colour-shifted fills, validation hole PSNR falling from 18.9 to
# 17.8 dB); 1000 keeps it a sharpening term. See docs/completion-net-card.md.
REC_WEIGHT = 1000.0
OBJECTIVES = {"wgan-gp": "wgan-gp", "gan": "dcgan"}    # the names in losses.py

# Seed streams folded into each step's seed: one per use, per critic / generator update.
_REMEASURE, _GP_MIX, _REAL_WINDOW, _G_REMEASURE, _EXTRA_HOLE = 0, 1000, 2000, 3000, 4000
_DATA_STREAM = 1                                        # (seed, 1): the pipeline's measurements


@dataclasses.dataclass(frozen=True)
class CompletionTrainConfig(TrainSettings):
    """Training settings. ``None`` means: the chosen loss's published default."""
    LOSS_DEFAULTS = LOSS_DEFAULTS
    NONNEGATIVE = ("gp_weight", "rec_weight")

    loss: str = "wgan-gp"
    rec_weight: float = REC_WEIGHT      # 0: adversarial loss only
    init_from: str = ""                 # weights a new run's net starts from, or "bundled"; "": random
    ema: float = 0.0                    # decay of the network's moving average, in [0, 1); 0 = none

    def __post_init__(self):
        super().__post_init__()
        for name in ("rec_weight", "ema"):
            if getattr(self, name) is None:
                raise ValueError(f"{name} must be a finite number, got None")
        check_settings(self, betas=("ema",))
        if not isinstance(self.init_from, str):
            raise ValueError(f"init_from must be a weights file's path, got {self.init_from!r}")


def measured_batches(dataset: tf.data.Dataset, measurement, seed: int, epoch: int) -> tf.data.Dataset:
    """(positions, x) batches -> (positions, (y, M)): x is measured and dropped here.

    Image at epoch position p gets its mask from the seed fold(fold((seed, 1), epoch), p),
    so it depends on neither the batching, the sharding nor a resume.
    """
    return data.per_image_batches(dataset, measurement.measure_each, seed, _DATA_STREAM, epoch)


class CompletionTrainer:
    """The completion net, the critic, both optimizers and the replica step above; ``run``
    (an engine.TrainingRun) holds the counters and checkpoints and trains them.

    ``checkpoint_dir`` receives config.json (kind "completion-net") and tf.train
    checkpoints of ``completion_net``, ``critic``, both optimizers, step, epoch and
    epoch_files_done, and with ema > 0 ``completion_net_ema``, the moving average
    (``final_net``: the network samples, export and completion use).
    """

    def __init__(self, config: CompletionConfig, train_config: CompletionTrainConfig,
                 checkpoint_dir: str, strategy: tf.distribute.Strategy | None = None):
        self.train_config = cfg = train_config.resolved()
        self.strategy = replica_strategy(cfg, strategy)
        self.model_config = config
        self.measurement = config.make_measurement()
        keras.utils.set_random_seed(cfg.seed)   # seeds the initialisers
        with self.strategy.scope():
            self.net = build_completion_net(
                config, synchronized_bn=synchronized_bn(self.strategy.num_replicas_in_sync))
            self.critic = build_critic(config)
            self.g_optimizer, self.d_optimizer = make_optimizers(cfg, self.net, self.critic)
        self.checkpointed = {NET_NAME: self.net, "critic": self.critic,
                             "g_optimizer": self.g_optimizer, "d_optimizer": self.d_optimizer}
        self.net_ema = None
        if cfg.ema:
            with self.strategy.scope():        # the same variables as the net's, never trained
                self.net_ema = build_completion_net(
                    config, synchronized_bn=synchronized_bn(self.strategy.num_replicas_in_sync))
            self.net_ema.set_weights(self.net.get_weights())
            self.checkpointed[EMA_NAME] = self.net_ema
        self.run = TrainingRun(self, checkpoint_dir)

    @property
    def final_net(self) -> keras.Model:
        """The network a run yields: the moving average where it keeps one."""
        return self.net if self.net_ema is None else self.net_ema

    def after_step(self, step) -> None:
        """After each step, in cross-replica context: the moving average, over every weight
        of the network (batch-norm statistics too); nothing to do without one."""
        if self.net_ema is not None:
            update_moving_average(self.net_ema.weights, self.net.weights,
                                  self.train_config.ema, step)

    def start_new_run(self) -> None:
        """Before a new run's first step: with ``init_from`` (a completion network's weights
        file or run folder, or "bundled": the bundled network), the network starts from its
        weights, batch-norm statistics included, whatever the image size it was trained at
        (the net is fully convolutional: e.g. the bundled 64x64 network starts a 128x128
        run). Its network must otherwise be this run's (networks.CompletionConfig
        .network_differences); CheckpointError (a ValueError naming the file, setting
        "init_from") if not, or if it cannot be read, and nothing is changed then. The
        critic and both optimizers start fresh; a resumed run never calls this."""
        path = self.train_config.init_from
        if not path:
            return
        bundled = path == "bundled"
        try:
            config, net = load_completion_net(None if bundled else path)
        except CheckpointError as e:
            if e.setting == "load_model":          # a DCGAN's weights: the other kind of file
                raise CheckpointError(f"{path} holds no completion network (a DCGAN's "
                                      "weights file?)", setting="init_from") from e
            raise CheckpointError(str(e), setting="init_from") from e
        path = BUNDLED_NETWORK if bundled else path
        differ = self.model_config.network_differences(config)
        if differ:
            raise CheckpointError(f"{path} holds another network than this run trains: "
                                  f"{'; '.join(differ)}", setting="init_from")
        self.net.set_weights(net.get_weights())
        if self.net_ema is not None:
            self.net_ema.set_weights(net.get_weights())
        size, mine = config.image_size, self.model_config.image_size
        log.info("the network starts from the weights of %s%s, trained at %dx%d, for this "
                 "%dx%d run; the critic starts from random weights", path,
                 " (bundled)" if bundled else "", size, size, mine, mine)

    def write_config(self, directory: str) -> None:
        save_completion_config(self.model_config, directory,
                               {"train": dataclasses.asdict(self.train_config)})

    def batches(self, dataset: tf.data.Dataset, epoch: int) -> tf.data.Dataset:
        """(positions, x) -> (positions, (y, M)): the step never sees a clean image."""
        return measured_batches(dataset, self.measurement, self.train_config.seed, epoch)

    # --- one step ------------------------------------------------------------------------

    def replica_step(self, real, step):
        """real = (y, M): (d_steps * b, S, S, C) measured images and their (.., S, S, 1) masks.

        Returns per-replica sums / global batch of d_loss, g_loss, gp, rec, d_real, d_fake.
        """
        y_all, m_all = real
        cfg, measure = self.train_config, self.measurement
        net, critic = self.net, self.critic
        objective = OBJECTIVES[cfg.loss]
        window = self.model_config.window
        replica = tf.cast(tf.distribute.get_replica_context().replica_id_in_sync_group, tf.int64)
        seed = tf.random.experimental.stateless_fold_in(tf.constant([cfg.seed, 0], tf.int64), step)
        seed = tf.random.experimental.stateless_fold_in(seed, replica)
        b = tf.shape(y_all)[0] // cfg.d_steps

        def fold(stream):
            return tf.random.experimental.stateless_fold_in(seed, stream)

        def per_example_mean(values):
            return tf.reduce_sum(values) / cfg.batch_size

        def input_masks(m, stream):
            """M, or M M2 with a fresh measurement's M2 when the reconstruction term is on."""
            return m * measure.sample_masks(b, fold(stream)) if cfg.rec_weight else m

        def remeasure(x_hat, stream):
            return measure.apply(x_hat, measure.sample_masks(b, fold(stream)))

        gp = tf.constant(0.0)
        for k in range(cfg.d_steps):           # critic updates, each on its own measured batch
            y, m = y_all[k * b:(k + 1) * b], m_all[k * b:(k + 1) * b]
            m_in = input_masks(m, _EXTRA_HOLE + k)                      # (b, S, S, 1)
            fake = remeasure(net([y, m_in], training=True), _REMEASURE + k)   # (b, S, S, C)
            off_fake = hole_window_offsets(m_in, window)                # (b, 2): the filled region
            off_real = hole_window_offsets(measure.sample_masks(b, fold(_REAL_WINDOW + k)), window)
            with tf.GradientTape() as tape:
                real_scores = critic([y, off_real], training=True)      # (b, 1)
                fake_scores = critic([fake, off_fake], training=True)
                d_loss = per_example_mean(losses.discriminator_loss(objective, real_scores,
                                                                    fake_scores))
                total = d_loss
                if cfg.gp_weight:
                    eps = tf.random.stateless_uniform((b, 1, 1, 1), fold(_GP_MIX + k))
                    # The interpolate's window: that of the end it is nearer to.
                    off_mix = tf.where(eps[:, 0, 0] >= 0.5, off_real, off_fake)   # (b, 2)
                    gp = per_example_mean(losses.gradient_penalty(
                        lambda x, training: critic([x, off_mix], training=training), y, fake, eps))
                    total = d_loss + cfg.gp_weight * gp
            grads = tape.gradient(total, critic.trainable_variables)
            self.d_optimizer.apply_gradients(zip(grads, critic.trainable_variables))

        rec = tf.constant(0.0)
        for j in range(cfg.g_steps):           # network updates on the last measured batch
            m_in = input_masks(m, _EXTRA_HOLE + cfg.d_steps + j)
            off_fake = hole_window_offsets(m_in, window)
            with tf.GradientTape() as tape:
                x_hat = net([y, m_in], training=True)                   # (b, S, S, C)
                fake_scores = critic([remeasure(x_hat, _G_REMEASURE + j), off_fake], training=True)
                g_loss = per_example_mean(losses.generator_loss(objective, fake_scores))
                total = g_loss
                if cfg.rec_weight:             # known in y, hidden from the net by M2
                    rec = per_example_mean(losses.masked_l1(x_hat, y, m - m_in))
                    total = g_loss + cfg.rec_weight * rec
            grads = tape.gradient(total, net.trainable_variables)
            self.g_optimizer.apply_gradients(zip(grads, net.trainable_variables))

        score = tf.sigmoid if cfg.loss == "gan" else tf.identity
        return {"d_loss": d_loss, "g_loss": g_loss, "gp": gp, "rec": rec,
                "d_real": per_example_mean(score(real_scores)),
                "d_fake": per_example_mean(score(fake_scores))}

    def complete(self, y, masks) -> tf.Tensor:
        """final_net([y, M]) in inference mode: (B, S, S, C) in [-1, 1]."""
        return self.final_net([tf.convert_to_tensor(y, tf.float32),
                               tf.convert_to_tensor(masks, tf.float32)], training=False)


def load_trainer_config(checkpoint_dir: str):
    """(CompletionConfig, CompletionTrainConfig) a previous run saved, or None for a new run.

    Raises CompletionConfigError (a ValueError) when the folder holds checkpoints but no
    config.json, or a config.json that cannot be read or is not a completion network's.
    """
    return load_run_config(checkpoint_dir, load_completion_config, CompletionTrainConfig,
                           CompletionConfigError)


# --- callbacks -------------------------------------------------------------------------------

SAMPLE_SEED = 2016


def sample_inputs(paths, config: CompletionConfig, count: int = 32, crop: bool = False,
                  report: data.BadFileReport | None = None):
    """Fixed measured inputs for the sample grids: the first ``count`` readable files, image
    i measured with the seed (2016, i). Returns (y, M) as numpy arrays; x goes no further.

    A file that cannot be decoded is added to ``report`` and the next one taken; raises
    data.DatasetError when not one file can be decoded.
    """
    pixels = data.first_readable(paths, config.image_size, config.channels, count, crop, report)
    x = images.to_float(pixels)
    seeds = np.stack([np.full(len(pixels), SAMPLE_SEED), np.arange(len(pixels))], 1)
    y, masks = config.make_measurement().measure_each(x, seeds)
    return y.numpy(), masks.numpy()


def side_by_side(trainer, y, masks) -> np.ndarray:
    """uint8 (2N, S, S, C): measured input i, then its completion."""
    out = trainer.complete(y, masks)
    pairs = np.stack([images.to_uint8(y), images.to_uint8(out)], axis=1)   # (N, 2, S, S, C)
    return pairs.reshape((-1,) + pairs.shape[2:])
