"""dcgan-train-encoder: train an encoder that gives completion its starting z, for a
trained DCGAN (in-domain GAN inversion; dcgan_completion/train_encoder.py).

The generator of --model (a dcgan-train checkpoint folder or weights file; default: the
bundled face model) is frozen. Each step the encoder learns to recover z from a masked
G(z), with masks of every kind completion offers (center, left, random, patch, grid,
full), and to reconstruct the known pixels of masked real faces from --dataset. Run
folders (created on demand, never cleared):
  --checkpoint_dir  config.json + ckpt-<step>.* (encoder, its optimizer, counters)
  --sample_dir      train_<step>.png: pairs (masked input, start point G(E)) of fixed inputs
  --log_dir         TensorBoard event files (losses, images/s, start points)
A rerun with the same --checkpoint_dir resumes exactly where the last run stopped.

dcgan-complete uses the encoder that lives beside the model: --export_weights
NAME.encoder.npz beside a weights file NAME.npz, or DIR/encoder.npz inside a checkpoint
folder DIR (or train straight into --checkpoint_dir DIR/encoder).
"""

from __future__ import annotations

import logging
import sys

from .common import nonnegative_float, seed
from . import training

log = logging.getLogger("dcgan-train-encoder")

MODEL_FLAGS = ("width", "pooling")
TRAIN_FLAGS = ("loss", "epochs", "batch_size", "learning_rate", "beta1", "beta2", "rec_weight",
               "real_weight", "generator", "train_size", "seed", "flip", "crop",
               "checkpoint_every", "init_from")


def build_parser():
    from .common import positive_int
    from ..config import UNSCALED_POLICIES
    from ..encoder import EncoderConfig
    from ..train_encoder import LOSS_DEFAULTS, EncoderTrainConfig
    M, T = EncoderConfig(), EncoderTrainConfig()
    p = training.new_parser("dcgan-train-encoder", __doc__)

    g = p.add_argument_group("model (fixed for a run; saved in checkpoint_dir/config.json)")
    g.add_argument("--model", dest="generator", metavar="PATH",
                   help="the DCGAN whose generator the encoder inverts: a dcgan-train checkpoint "
                   "folder or a weights file (default: the bundled face model)")
    g.add_argument("--width", type=positive_int, help=f"encoder width, the channels of its first "
                   f"layer (default: {M.width})")
    g.add_argument("--pooling", type=positive_int, metavar="F", help="the encoder reads the "
                   "images averaged down F times (a power of two): with --init_from the encoder "
                   "of a model F times smaller, e.g. the bundled 64-px one for a 128-px model "
                   "grown from it, it fine-tunes that encoder at its cost (default: "
                   f"{M.pooling})")

    g = training.add_objective_flags(p, LOSS_DEFAULTS, T, updated="encoder", critic=False)
    g.add_argument("--rec_weight", type=nonnegative_float, help="weight of the reconstruction of "
                   f"the known pixels of generated faces (default: {T.rec_weight:g})")
    g.add_argument("--real_weight", type=nonnegative_float, help="weight of the reconstruction of "
                   f"the known pixels of real faces; 0 = generated faces only (default: {T.real_weight:g})")
    g.add_argument("--init_from", type=training.weights_to_start_from, metavar="ENCODER",
                   help="start from this encoder (weights file or run folder), or from the "
                   "bundled model's (bundled), e.g. for a model fine-tuned from the one it was "
                   "trained for; --width must match it (default: random weights)")
    g.add_argument("--precision", choices=UNSCALED_POLICIES, default="float32",
                   help="compute precision of the encoder's hidden layers and of the frozen G "
                   "(mixed_bfloat16: about 2x faster on CPUs with AMX); may "
                   "change on resume (default: float32)")
    g.add_argument("--seed", type=seed, help=f"seed for weights, data order, z, masks and flips "
                   f"(default: {T.seed})")

    g = training.add_output_flags(p, T, suffix="_encoder")
    g.add_argument("--export_weights", metavar="PATH", help="after training, write the encoder's "
                   "weights file (.npz, float16) to PATH, e.g. NAME.encoder.npz beside the model "
                   "NAME.npz (default: none)")

    return training.finish_parser(p)


def command() -> training.Command:
    """dcgan-train-encoder's part of the shared training flow (cli/training.py)."""
    from ..encoder import EncoderConfig
    from ..train_encoder import EncoderTrainConfig, EncoderTrainer, load_trainer_config
    return training.Command(
        load_saved=load_trainer_config, model_cls=EncoderConfig, train_cls=EncoderTrainConfig,
        model_flags=MODEL_FLAGS, train_flags=TRAIN_FLAGS, make_trainer=EncoderTrainer,
        check_export=training.check_new_weights_file, chief_callbacks=chief_callbacks,
        export=export, describe=describe, new_run=EncoderTrainer.start_new_run)


def describe(trainer) -> str:
    return f" for the generator of {trainer.train_config.generator or 'the bundled model'}"


def chief_callbacks(args, ready) -> list:
    """The sample grid and TensorBoard images of fixed inputs: the first readable files, masked."""
    from ..train_encoder import sample_inputs, side_by_side
    return training.pair_callbacks(args, ready, sample_inputs, side_by_side, "masked_and_start_point")


def export(args, ready, status: int) -> int:
    """--export_weights: the trained encoder's weights file; returns the exit status."""
    from ..checkpoints import save_encoder_weights
    return training.export_weights(
        args, ready, status, lambda trainer, path: save_encoder_weights(
            trainer.model_config, trainer.encoder, path), "encoder")


def main(argv=None) -> int:
    return training.run_command(build_parser(), command, argv)


if __name__ == "__main__":
    sys.exit(main())
