"""dcgan-train-completion / ./train-completion-net.py: train a completion network from
incomplete images only (AmbientGAN measurements + GLCIC networks).

Every training image is measured (--measurement, default mix: one hole per image, a
square, brush strokes, scattered pixels, a half, a large centre square or several small
squares) before the networks see it; the network learns to fill
holes without ever seeing a complete face, from critics that compare its re-damaged
completions with damaged faces and (--rec_weight) from known pixels hidden from it by a
second, artificial hole. Run folders (created on demand, never cleared):
  --checkpoint_dir  config.json + ckpt-<step>.* (network, critic, both optimizers, counters)
  --sample_dir      train_<step>.png: pairs (measured input, completion) of fixed inputs
  --log_dir         TensorBoard event files (losses, gradient penalty, images/s, samples)
A rerun with the same --checkpoint_dir resumes exactly where the last run stopped.
--init_from WEIGHTS|bundled starts a new run's network from another's weights, of any
image size (e.g. the bundled 64x64 network for a 128x128 run); the critic starts fresh.
"""

from __future__ import annotations

import argparse
import logging
import sys

from .common import finite_float, fraction, nonnegative_float, positive_int, seed
from . import training

log = logging.getLogger("dcgan-train-completion")

MODEL_FLAGS = ("image_size", "channels", "width", "critic_width", "skips", "prefill",
               "measurement", "patch_size", "fill", "drop_prob")
TRAIN_FLAGS = ("loss", "epochs", "batch_size", "learning_rate", "d_learning_rate", "beta1",
               "beta2", "d_steps", "g_steps", "gp_weight", "rec_weight", "train_size", "seed",
               "flip", "crop", "checkpoint_every", "init_from", "ema")


def build_parser() -> argparse.ArgumentParser:
    from ..completion_net.measurements import MEASUREMENTS
    from ..completion_net.networks import PREFILLS, CompletionConfig
    from ..config import UNSCALED_POLICIES
    from ..completion_net.training import LOSS_DEFAULTS, CompletionTrainConfig
    M, T = CompletionConfig(), CompletionTrainConfig()
    p = training.new_parser("dcgan-train-completion", __doc__)

    g = p.add_argument_group("measurement: how every training image is damaged (fixed for a run)")
    g.add_argument("--measurement", choices=MEASUREMENTS,
                   help=f"block-patch: one random k x k square missing; block-pixels: each "
                   f"pixel missing with probability p; keep-patch: only a k x k square known; "
                   f"strokes: free-form brush strokes missing; mix: one of these holes per "
                   f"image, with the proportions of completion_net/measurements.py "
                   f"(default: {M.measurement})")
    g.add_argument("--patch_size", type=positive_int, help="k for block-patch (default: round(28/64 * "
                   "image_size), 28 at 64x64) and keep-patch (default: image_size / 2)")
    g.add_argument("--fill", type=finite_float, help="value of missing pixels on the [-1, 1] scale "
                   "(default: 1.0 = white for block-patch, 0.0 = gray otherwise)")
    g.add_argument("--drop_prob", type=fraction, help="p for block-pixels (default: 0.5)")

    g = p.add_argument_group("model (fixed for a run; saved in checkpoint_dir/config.json)")
    g.add_argument("--image_size", type=positive_int, help=f"image side, a power of two >= 16 (default: {M.image_size})")
    g.add_argument("--channels", type=int, choices=(1, 3), help=f"1 grayscale or 3 RGB (default: {M.channels})")
    g.add_argument("--width", type=positive_int, help=f"completion network width (default: {M.width})")
    g.add_argument("--critic_width", type=positive_int, help=f"critic width (default: {M.critic_width})")
    g.add_argument("--skips", action=argparse.BooleanOptionalAction, default=None,
                   help="U-Net concatenations from the network's encoder to its decoder at "
                   f"S/2 and S (default: {'on' if M.skips else 'off'})")
    g.add_argument("--prefill", choices=PREFILLS, help="what the network's input holds in the "
                   "hole: the measurement's constant fill, or push-pull, a smooth interpolation "
                   f"of the known pixels (default: {M.prefill})")

    g = training.add_objective_flags(p, LOSS_DEFAULTS, T, updated="network")
    g.add_argument("--rec_weight", type=nonnegative_float, help=f"weight of the reconstruction term: the "
                   f"mean absolute error on known pixels hidden from the network by a second, "
                   f"artificial hole; 0 = adversarial loss only (default: {T.rec_weight:g})")
    g.add_argument("--init_from", type=training.weights_to_start_from, metavar="WEIGHTS",
                   help="start the network from this completion network's weights file (.npz, "
                   "as --export_weights writes it) or run folder, or from the bundled 64x64 "
                   "network "
                   "(bundled), instead of random weights; its image size may differ (e.g. "
                   "--image_size 128 --init_from bundled), its other model flags must match; "
                   "the critic starts fresh (default: random weights)")
    training.add_ema_flag(g, T.ema, "the network")
    g.add_argument("--precision", choices=UNSCALED_POLICIES, default="float32",
                   help="compute precision of the network's hidden layers; mixed_bfloat16 took "
                   "1.7 s a step against 2.3 s in float32 (batch 64, --d_steps 1) on a 2-core "
                   "CPU with AVX-512 BF16; may change on resume (default: float32)")
    g.add_argument("--seed", type=seed, help=f"seed for weights, data order, measurements and "
                   f"flips (default: {T.seed})")

    g = training.add_output_flags(p, T, suffix="_completion")
    g.add_argument("--export_weights", metavar="PATH", help="after training, write the network's "
                   "weights file (.npz, float16) to PATH (default: none)")

    return training.finish_parser(p)


def command() -> training.Command:
    """dcgan-train-completion's part of the shared training flow (cli/training.py)."""
    from ..completion_net.networks import CompletionConfig
    from ..completion_net.training import (CompletionTrainConfig, CompletionTrainer,
                                           load_trainer_config)
    return training.Command(
        load_saved=load_trainer_config, model_cls=CompletionConfig,
        train_cls=CompletionTrainConfig, model_flags=MODEL_FLAGS, train_flags=TRAIN_FLAGS,
        make_trainer=CompletionTrainer, check_export=training.check_new_weights_file,
        chief_callbacks=chief_callbacks, export=export, describe=describe,
        new_run=CompletionTrainer.start_new_run)


def describe(trainer) -> str:
    return f" measured by {trainer.measurement.name} {trainer.measurement.params()}"


def chief_callbacks(args, ready) -> list:
    """The sample grid and TensorBoard images of fixed inputs: the first readable files, measured."""
    from ..completion_net.training import sample_inputs, side_by_side
    return training.pair_callbacks(args, ready, sample_inputs, side_by_side, "measured_and_completed")


def main(argv=None) -> int:
    return training.run_command(build_parser(), command, argv)


def export(args, ready, status: int) -> int:
    """--export_weights: the trained network's weights file; returns the exit status."""
    from ..completion_net.weights import save_completion_net_weights
    return training.export_weights(
        args, ready, status, lambda trainer, path: save_completion_net_weights(
            trainer.model_config, trainer.final_net, path), "network")


if __name__ == "__main__":
    sys.exit(main())
