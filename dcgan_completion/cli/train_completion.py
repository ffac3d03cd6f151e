"""dcgan-train-completion / ./train-completion-net.py: train a completion network from
incomplete images only (AmbientGAN measurements + GLCIC networks).

Every training image is measured (--measurement, default block-patch: one random 28x28
square at 64x64 set to white) before the networks see it; the network learns to fill
holes without ever seeing a complete face, from critics that compare its re-damaged
completions with damaged faces and (--rec_weight) from known pixels hidden from it by a
second, artificial hole. Run folders (created on demand, never cleared):
  --checkpoint_dir  config.json + ckpt-<step>.* (network, critic, both optimizers, counters)
  --sample_dir      train_<step>.png: pairs (measured input, completion) of fixed inputs
  --log_dir         TensorBoard event files (losses, gradient penalty, images/s, samples)
A rerun with the same --checkpoint_dir resumes exactly where the last run stopped.
"""

from __future__ import annotations

import argparse
import logging
import sys

from .common import (EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_PARTIAL, HelpFormatter,
                     add_strategy_flag, add_verbose_flag, finite_float, fraction,
                     nonnegative_float, positive_int, run_configs, seed)
from . import training

log = logging.getLogger("dcgan-train-completion")

MODEL_FLAGS = ("image_size", "channels", "width", "critic_width", "measurement", "patch_size",
               "fill", "drop_prob")
TRAIN_FLAGS = ("loss", "epochs", "batch_size", "learning_rate", "beta1", "beta2", "d_steps",
               "g_steps", "gp_weight", "rec_weight", "train_size", "seed", "flip", "crop",
               "checkpoint_every")
SAMPLE_COUNT = 32


def build_parser() -> argparse.ArgumentParser:
    from ..completion_net.measurements import MEASUREMENTS
    from ..completion_net.networks import DTYPE_POLICIES, CompletionConfig
    from ..completion_net.training import LOSS_DEFAULTS, CompletionTrainConfig
    M, T = CompletionConfig(), CompletionTrainConfig()
    p = argparse.ArgumentParser(prog="dcgan-train-completion", description=__doc__,
                                formatter_class=HelpFormatter, argument_default=None)
    training.add_data_flags(p)

    g = p.add_argument_group("measurement: how every training image is damaged (fixed for a run)")
    g.add_argument("--measurement", choices=MEASUREMENTS,
                   help=f"block-patch: one random k x k square missing; block-pixels: each "
                   f"pixel missing with probability p; keep-patch: only a k x k square known "
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

    g = training.add_objective_flags(p, LOSS_DEFAULTS, T, updated="network")
    g.add_argument("--rec_weight", type=nonnegative_float, help=f"weight of the reconstruction term: the "
                   f"mean absolute error on known pixels hidden from the network by a second, "
                   f"artificial hole; 0 = adversarial loss only (default: {T.rec_weight:g})")
    g.add_argument("--precision", choices=DTYPE_POLICIES, default="float32",
                   help="compute precision of the network's hidden layers; mixed_bfloat16 took "
                   "1.7 s a step against 2.3 s in float32 (batch 64, --d_steps 1) on a 2-core "
                   "CPU with AVX-512 BF16; may change on resume (default: float32)")
    g.add_argument("--seed", type=seed, help=f"seed for weights, data order, measurements and "
                   f"flips (default: {T.seed})")

    g = training.add_output_flags(p, T, suffix="_completion")
    g.add_argument("--export_weights", metavar="PATH", help="after training, write the network's "
                   "weights file (.npz, float16) to PATH (default: none)")

    add_strategy_flag(p)
    add_verbose_flag(p)
    return p


def resolve_configs(args):
    """(CompletionConfig, CompletionTrainConfig): a saved run's, or new ones from the flags.

    Raises ValueError when a flag contradicts the run saved in --checkpoint_dir.
    """
    from ..completion_net.networks import CompletionConfig
    from ..completion_net.training import CompletionTrainConfig, load_trainer_config
    return run_configs(args, load_trainer_config(args.checkpoint_dir), CompletionConfig,
                       CompletionTrainConfig, MODEL_FLAGS, TRAIN_FLAGS)


def check_outputs(args, chief: bool) -> None:
    """Refuse unusable output locations before any training (files.OutputError)."""
    from .. import files
    if args.export_weights and chief:    # first: a refusal here creates no folder
        files.check_new_file(args.export_weights, what="weights file")
    files.ensure_output_dir(args.checkpoint_dir, what="checkpoint folder")
    if chief:    # only the chief writes samples, logs and the weights file
        files.ensure_output_dir(args.sample_dir, what="sample folder")
        files.ensure_output_dir(args.log_dir, what="log folder")


def main(argv=None) -> int:
    return training.run_command(build_parser(), train, argv)


def train(args) -> int:
    """The command, once its flags are parsed; returns the exit status."""
    from .. import callbacks
    from ..completion_net.training import (CompletionSamples, CompletionTensorBoard,
                                           CompletionTrainer, sample_inputs)
    from ..completion_net.weights import save_completion_net_weights
    try:
        run = training.start(args, lambda: resolve_configs(args), check_outputs,
                             lambda config, train, strategy: CompletionTrainer(
                                 config, train, args.checkpoint_dir, strategy))
    except training.Refused as e:
        log.error("%s", e)
        return EXIT_FAILED
    trainer, cfg = run.trainer, run.trainer.train_config
    log.info("%s %d images from %s measured by %s %s; %s loss, batch %d, %d epochs of %d "
             "steps; %d replica(s)", "resuming on" if run.resumed else "training on",
             len(run.paths), args.dataset, trainer.measurement.name,
             trainer.measurement.params(), cfg.loss, cfg.batch_size, cfg.epochs,
             trainer.run.steps_per_epoch(len(run.paths)), trainer.strategy.num_replicas_in_sync)

    def make_callbacks():
        cbs = [callbacks.ProgressBar(disable=args.no_progress or not run.chief)]
        if run.chief:     # the grids' inputs: the first readable files, measured
            y, masks = sample_inputs(run.paths, trainer.model_config, SAMPLE_COUNT, crop=cfg.crop,
                                     report=run.report)
            cbs += [CompletionSamples(args.sample_dir, y, masks, every=args.sample_every),
                    CompletionTensorBoard(args.log_dir, y, masks, image_every=args.sample_every)]
        return cbs

    status = training.finish(run, make_callbacks, args)
    if args.export_weights and status in (EXIT_OK, EXIT_PARTIAL) and run.chief:
        try:
            save_completion_net_weights(trainer.model_config, trainer.net, args.export_weights)
        except KeyboardInterrupt:
            log.warning("interrupted while writing %s: training is complete (%s); write the "
                        "weights file with dcgan-export --weights", args.export_weights,
                        trainer.run.last_checkpoint)
            return EXIT_INTERRUPTED
        log.info("network weights written to %s", args.export_weights)
    return status


if __name__ == "__main__":
    sys.exit(main())
