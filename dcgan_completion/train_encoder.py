"""The encoder method: learning a start point for the projection against a frozen generator,
trained by engine.TrainingRun (in-domain GAN inversion, Zhu et al. 2020, on masked inputs).

The generator G of a trained model (checkpoints.load_model: a dcgan-train folder, a
weights file or the bundled model) is loaded and frozen; it is not checkpointed, and its
source is recorded in the encoder's config.json ("train": {"generator": ...}; null = the
bundled model). One step, on a batch of real faces x_r with masks M_r attached by the
input pipeline:

    z ~ U[-1, 1]^z_dim,  x = G(z)               a generated face whose z is known
    M ~ one mask per image, of a kind drawn uniformly among masks.SAMPLED_KINDS
    latent   = mean_d (E(M x, M) - z)_d^2                 the z the encoder must recover
    rec      = mean |G(E(M x, M)) - x| over M's pixels    its image must match what is known
    real_rec = mean |G(E(M_r x_r, M_r)) - x_r| over M_r's  the same on real faces
    loss     = latent + rec_weight rec + real_weight real_rec

(the latent term is the squared distance ||E - z||^2 divided by z_dim, so that the weights
do not change meaning with z_dim; the pixel terms are per-pixel means, masked_l1). Every
draw is stateless: z and M from (seed, step, replica), the real faces' masks from (seed,
epoch, position in the epoch), the data order from (seed, epoch); the checkpoint holds
the encoder, its optimizer and the engine's counters, so a resumed run continues exactly.
"""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
import tensorflow as tf

from . import data, images, losses
from .blend import visible_input
from .checkpoints import (CheckpointError, encoder_locations, load_encoder, load_encoder_config,
                          load_model)
from .config import save_kind_config
from .encoder import CONFIG_KIND, EncoderConfig, EncoderConfigError, build_encoder
from .engine import TrainingRun, TrainSettings, load_run_config, make_optimizer, replica_strategy
from .masks import sample_masks
from .model import sample_z

# One objective; its optimizer is IDInvert's (Adam 1e-4). d_steps 1: one real batch a step.
LOSS_DEFAULTS = {
    "l2": dict(optimizer="adam", learning_rate=1e-4, beta1=0.9, beta2=0.999, d_steps=1,
               g_steps=1, gp_weight=None),
}
# Weights of the two reconstruction terms against the latent term. Both start near 0.3
# (an untrained encoder's z ~ 0, |U[-1, 1]|^2 averages 1/3; a mean absolute pixel error
# of a face against another ~0.3), so 1 gives them equal say. Not yet tuned on CelebA.
REC_WEIGHT = 1.0
REAL_WEIGHT = 1.0

# Seed streams folded into each step's seed, and the pipeline's stream of real masks.
_Z, _MASKS = 0, 1
_DATA_STREAM = 2


@dataclasses.dataclass(frozen=True)
class EncoderTrainConfig(TrainSettings):
    """Training settings. ``None`` means: the loss's default. ``generator``: the model
    the encoder is for (a dcgan-train folder or weights file; None = the bundled model)."""
    LOSS_DEFAULTS = LOSS_DEFAULTS
    NONNEGATIVE = ("rec_weight", "real_weight")

    loss: str = "l2"
    rec_weight: float = REC_WEIGHT      # reconstruction of generated faces' known pixels
    real_weight: float = REAL_WEIGHT    # reconstruction of real faces' known pixels; 0 = none
    generator: str | None = None
    init_from: str = ""                 # encoder weights a new run starts from, or "bundled"

    def __post_init__(self):
        super().__post_init__()
        if not isinstance(self.init_from, str):
            raise ValueError(f"init_from must be an encoder's path, got {self.init_from!r}")
        for name in ("rec_weight", "real_weight"):
            if getattr(self, name) is None:
                raise ValueError(f"{name} must be a finite number >= 0, got None")
        if self.generator is not None and not isinstance(self.generator, str):
            raise ValueError(f"generator must be a path or None, got {self.generator!r}")


def load_trainer_config(checkpoint_dir: str):
    """(EncoderConfig, EncoderTrainConfig) a previous run saved, or None for a new run.

    Raises EncoderConfigError (a ValueError) when the folder holds checkpoints but no
    config.json, or one that cannot be read or is not an encoder's.
    """
    return load_run_config(checkpoint_dir, load_encoder_config, EncoderTrainConfig,
                           EncoderConfigError)


class EncoderTrainer:
    """The encoder, its optimizer and the replica step above, against the frozen generator
    of ``train_config.generator``; ``run`` (an engine.TrainingRun) holds the counters and
    checkpoints and trains them.

    ``config``'s image_size, channels and z_dim are replaced by the generator's; its
    width (and precision) are kept. ``checkpoint_dir`` receives config.json (kind
    "encoder") and checkpoints of ``encoder``, ``e_optimizer`` and the counters.
    Raises checkpoints.CheckpointError when the generator cannot be loaded.
    """

    def __init__(self, config: EncoderConfig, train_config: EncoderTrainConfig,
                 checkpoint_dir: str, strategy: tf.distribute.Strategy | None = None):
        self.train_config = cfg = train_config.resolved()
        self.strategy = replica_strategy(cfg, strategy)
        with self.strategy.scope():
            # G computes in the encoder's precision: bfloat16 halves a 128-px step's time.
            self.generator_config, self.generator, _ = load_model(cfg.generator,
                                                                  config.dtype_policy)
        self.generator.trainable = False
        model = self.generator_config
        self.model_config = config.replace(image_size=model.image_size, channels=model.channels,
                                           z_dim=model.z_dim)
        keras.utils.set_random_seed(cfg.seed)   # seeds the initialisers
        with self.strategy.scope():
            self.encoder = build_encoder(self.model_config)
            self.optimizer = make_optimizer(cfg, "e_optimizer")
            self.optimizer.build(self.encoder.trainable_variables)
        self.checkpointed = dict(encoder=self.encoder, e_optimizer=self.optimizer)
        self.run = TrainingRun(self, checkpoint_dir)

    def start_new_run(self) -> None:
        """Before a new run's first step: with ``init_from`` (an encoder weights file or run
        folder, or "bundled": the bundled model's encoder), the encoder starts from its
        weights, e.g. those of the model this generator was fine-tuned from. It must have
        this run's shape (CheckpointError naming the file otherwise); the encoder of a model
        f times smaller, e.g. of the one this generator was grown from, fits a run whose
        encoder pools by f (its weights read the images averaged down). The optimizer
        starts fresh."""
        path = self.train_config.init_from
        if not path:
            return
        path = encoder_locations(None)[0] if path == "bundled" else path
        config, encoder = load_encoder(path, self.generator_config, pooled=True)
        differ = self.model_config.differences(config)
        if differ:
            raise CheckpointError(f"the encoder {path} has another shape than this run's: "
                                  f"{'; '.join(differ)}", setting="init_from")
        self.encoder.set_weights(encoder.get_weights())

    def write_config(self, directory: str) -> None:
        save_kind_config(directory, CONFIG_KIND, "encoder", self.model_config,
                         {"train": dataclasses.asdict(self.train_config)})

    def batches(self, dataset: tf.data.Dataset, epoch: int) -> tf.data.Dataset:
        """(positions, x) -> (positions, (x, M)): each real face with its own mask."""
        size = self.model_config.image_size
        return data.per_image_batches(dataset, lambda x, seeds: (x, sample_masks(seeds, size)),
                                      self.train_config.seed, _DATA_STREAM, epoch)

    # --- one step ------------------------------------------------------------------------

    def replica_step(self, batch, step):
        """batch = (x_r, M_r): (b, S, S, C) real faces and their (b, S, S, 1) masks.

        Returns per-replica sums / global batch of latent_loss, rec_loss, real_rec_loss
        and loss (their weighted sum)."""
        x_real, m_real = batch
        cfg, G, E = self.train_config, self.generator, self.encoder
        replica = tf.cast(tf.distribute.get_replica_context().replica_id_in_sync_group, tf.int64)
        seed = tf.random.experimental.stateless_fold_in(tf.constant([cfg.seed, 0], tf.int64), step)
        seed = tf.random.experimental.stateless_fold_in(seed, replica)
        b = tf.shape(x_real)[0]

        def fold(stream):
            return tf.random.experimental.stateless_fold_in(seed, stream)

        def per_example_mean(values):
            return tf.reduce_sum(values) / cfg.batch_size

        z = sample_z(b, self.model_config.z_dim, fold(_Z))                       # (b, z_dim)
        x = G(z, training=False)                                                 # (b, S, S, C)
        mask_seeds = tf.random.stateless_uniform((b, 2), fold(_MASKS), minval=None,
                                                 maxval=None, dtype=tf.int64)
        m = sample_masks(mask_seeds, self.model_config.image_size)              # (b, S, S, 1)
        with tf.GradientTape() as tape:
            z_hat = E([x, m], training=True)                                     # (b, z_dim)
            latent = per_example_mean(tf.reduce_mean(tf.square(z_hat - z), axis=1))
            rec = per_example_mean(losses.masked_l1(G(z_hat, training=False), x, m))
            total = latent + cfg.rec_weight * rec
            real_rec = tf.constant(0.0)
            if cfg.real_weight:
                z_real = E([x_real, m_real], training=True)
                real_rec = per_example_mean(
                    losses.masked_l1(G(z_real, training=False), x_real, m_real))
                total += cfg.real_weight * real_rec
        grads = tape.gradient(total, E.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, E.trainable_variables))
        return {"latent_loss": latent, "rec_loss": rec, "real_rec_loss": real_rec, "loss": total}

    def start_points(self, x, masks) -> tf.Tensor:
        """G(E(M x, M)) in inference mode: (B, S, S, C) in [-1, 1], the projection's start."""
        z = self.encoder([tf.convert_to_tensor(x, tf.float32),
                          tf.convert_to_tensor(masks, tf.float32)], training=False)
        return self.generator(z, training=False)


# --- callbacks -------------------------------------------------------------------------------

SAMPLE_SEED = 2016


def sample_inputs(paths, config: EncoderConfig, count: int = 32, crop: bool = False,
                  report: data.BadFileReport | None = None):
    """Fixed inputs for the sample grids: the first ``count`` readable files (uint8) and
    image i's mask drawn from the seed (2016, i), as numpy arrays."""
    pixels = data.first_readable(paths, config.image_size, config.channels, count, crop, report)
    seeds = np.stack([np.full(len(pixels), SAMPLE_SEED), np.arange(len(pixels))], 1)
    return pixels, sample_masks(seeds, config.image_size).numpy()


def side_by_side(trainer: EncoderTrainer, pixels, masks) -> np.ndarray:
    """uint8 (2N, S, S, C): masked input i (missing pixels gray), then its start point G(E)."""
    start = images.to_uint8(trainer.start_points(images.to_float(pixels), masks))
    pairs = np.stack([visible_input(pixels, masks), start], axis=1)          # (N, 2, S, S, C)
    return pairs.reshape((-1,) + pairs.shape[2:])
