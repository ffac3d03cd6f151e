"""dcgan-train / ./train-dcgan.py: train a DCGAN (or WGAN / WGAN-GP) on a folder of faces.

Run folders (all created on demand; nothing in them is ever deleted):
  --checkpoint_dir  config.json + ckpt-<step>.* (both networks, both optimizers, step, epoch)
  --sample_dir      train_<step>.png: G(fixed z) grids, every --sample_every steps and at the end
  --log_dir         TensorBoard event files (losses, D(x), D(G(z)), images/s, samples)
A rerun with the same --checkpoint_dir resumes exactly where the last run stopped.
"""

from __future__ import annotations

import argparse
import logging
import sys

from .common import (EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_PARTIAL, HelpFormatter,
                     add_strategy_flag, add_verbose_flag, nonnegative_float, positive_int,
                     run_configs, seed)
from . import training

log = logging.getLogger("dcgan-train")

# Defaults live in the library's dataclasses; the parser only records what the user set.
MODEL_FLAGS = ("image_size", "channels", "z_dim", "gf_dim", "df_dim")
TRAIN_FLAGS = ("loss", "epochs", "batch_size", "learning_rate", "beta1", "beta2", "d_steps",
               "g_steps", "clip_value", "gp_weight", "train_size", "seed", "flip", "crop",
               "checkpoint_every")


def build_parser() -> argparse.ArgumentParser:
    from ..config import ModelConfig
    from ..train import LOSS_DEFAULTS, TrainConfig
    M, T = ModelConfig(), TrainConfig()
    p = argparse.ArgumentParser(prog="dcgan-train", description=__doc__,
                                formatter_class=HelpFormatter, argument_default=None)
    training.add_data_flags(p)

    g = p.add_argument_group("model (fixed for a run; saved in checkpoint_dir/config.json)")
    g.add_argument("--image_size", type=positive_int, help=f"image side, a power of two >= 8 (default: {M.image_size})")
    g.add_argument("--channels", type=int, choices=(1, 3), help=f"1 grayscale or 3 RGB (default: {M.channels})")
    g.add_argument("--z_dim", type=positive_int, help=f"latent size (default: {M.z_dim})")
    g.add_argument("--gf_dim", type=positive_int, help=f"generator width (default: {M.gf_dim})")
    g.add_argument("--df_dim", type=positive_int, help=f"discriminator width (default: {M.df_dim})")

    g = training.add_objective_flags(p, LOSS_DEFAULTS, T, updated="generator")
    g.add_argument("--clip_value", type=nonnegative_float, help="critic weight clipping (default: "
                   f"{training.per_loss_default(LOSS_DEFAULTS, 'clip_value')})")
    g.add_argument("--seed", type=seed, help=f"seed for weights, data order, z and flips (default: {T.seed})")
    g.add_argument("--precision", choices=("float32", "mixed_bfloat16", "mixed_float16"),
                   default="float32", help="compute precision; mixed_bfloat16 is 1.5-1.8x faster on "
                   "CPUs with AVX-512 BF16, mixed_float16 suits GPUs (default: float32)")

    g = training.add_output_flags(p, T)
    g.add_argument("--export", metavar="DIR", help="after training, export the generator as a "
                   "SavedModel to DIR (default: no export)")

    add_strategy_flag(p)
    add_verbose_flag(p)
    return p


def resolve_configs(args):
    """(model config, train config) for this run: a saved run's, or new ones from the flags.

    Raises ValueError when a flag contradicts the run saved in --checkpoint_dir.
    """
    from ..config import ModelConfig
    from ..train import TrainConfig, load_trainer_config
    return run_configs(args, load_trainer_config(args.checkpoint_dir), ModelConfig, TrainConfig,
                       MODEL_FLAGS, TRAIN_FLAGS)


def check_outputs(args, chief: bool) -> None:
    """Refuse unusable output locations before any training (files.OutputError)."""
    from .. import files
    if args.export:     # first: a refusal here creates no folder
        files.ensure_output_dir(args.export, must_be_empty=True, what="export folder")
    files.ensure_output_dir(args.checkpoint_dir, what="checkpoint folder")
    if chief:    # only the chief writes samples and logs
        files.ensure_output_dir(args.sample_dir, what="sample folder")
        files.ensure_output_dir(args.log_dir, what="log folder")


def main(argv=None) -> int:
    return training.run_command(build_parser(), train, argv)


def train(args) -> int:
    """The command, once its flags are parsed; returns the exit status."""
    from .. import callbacks, checkpoints, files
    from ..train import GANTrainer
    try:
        run = training.start(args, lambda: resolve_configs(args), check_outputs,
                             lambda model, train, strategy: GANTrainer(
                                 model, train, args.checkpoint_dir, strategy))
    except training.Refused as e:
        log.error("%s", e)
        return EXIT_FAILED
    trainer, cfg = run.trainer, run.trainer.train_config
    log.info("%s %d images from %s; %s loss, batch %d, %d epochs of %d steps; %d replica(s)",
             "resuming on" if run.resumed else "training on", len(run.paths), args.dataset,
             cfg.loss, cfg.batch_size, cfg.epochs, trainer.run.steps_per_epoch(len(run.paths)),
             trainer.strategy.num_replicas_in_sync)

    def make_callbacks():
        cbs = [callbacks.ProgressBar(disable=args.no_progress or not run.chief)]
        if run.chief:
            cbs += [callbacks.SampleGrid(args.sample_dir, every=args.sample_every),
                    callbacks.TensorBoard(args.log_dir, image_every=args.sample_every)]
        return cbs

    status = training.finish(run, make_callbacks, args)
    if args.export and status in (EXIT_OK, EXIT_PARTIAL):
        try:
            checkpoints.export_generator(trainer.generator, args.export)
            log.info("generator exported to %s (SavedModel)", args.export)
        except (FileExistsError, files.OutputError) as e:
            log.error("%s", e)
            status = EXIT_FAILED
        except KeyboardInterrupt:
            log.warning("interrupted during the export: training is complete (%s), and %s "
                        "was not written; run dcgan-export", trainer.run.last_checkpoint, args.export)
            return EXIT_INTERRUPTED
    return status


if __name__ == "__main__":
    sys.exit(main())
