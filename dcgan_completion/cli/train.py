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

from .common import (EXIT_FAILED, EXIT_INTERRUPTED, nonnegative_float,
                     positive_int, seed)
from . import training

log = logging.getLogger("dcgan-train")

# Defaults live in the library's dataclasses; the parser only records what the user set.
MODEL_FLAGS = ("image_size", "channels", "z_dim", "gf_dim", "df_dim")
TRAIN_FLAGS = ("loss", "epochs", "batch_size", "learning_rate", "d_learning_rate", "beta1",
               "beta2", "d_steps", "g_steps", "clip_value", "gp_weight", "train_size", "seed",
               "flip", "crop", "checkpoint_every", "augment", "ema", "r1", "init_from",
               "grow_from", "fade_steps")


def build_parser() -> argparse.ArgumentParser:
    from ..augment import AUGMENTATIONS, DEFAULT_POLICY
    from ..config import DTYPE_POLICIES, ModelConfig
    from ..train import LOSS_DEFAULTS, TrainConfig
    M, T = ModelConfig(), TrainConfig()
    p = training.new_parser("dcgan-train", __doc__)

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
    g.add_argument("--augment", type=augment_policy, metavar="POLICY",
                   help="DiffAugment of every image D sees, real and generated: a comma-separated "
                   f"list of {', '.join(AUGMENTATIONS)}, or none (default: "
                   f"{T.augment or 'none'}; the paper's: {','.join(DEFAULT_POLICY)})")
    training.add_ema_flag(g, T.ema, "G")
    g.add_argument("--r1", type=nonnegative_float, metavar="GAMMA",
                   help="R1 penalty on D at the real images, weight GAMMA/2; 0 = none "
                   f"(default: {T.r1})")
    g.add_argument("--init_from", type=training.weights_to_start_from, metavar="WEIGHTS",
                   help="start G and D from this weights file (.npz), or from the bundled model "
                   "(bundled), instead of random weights: fine-tuning on your faces; the model "
                   "flags must match it (default: random weights)")
    g.add_argument("--grow_from", type=training.weights_to_start_from, metavar="WEIGHTS",
                   help="start from this weights file's model of half the --image_size (or the "
                   "bundled 64x64 model: bundled), grown by a new block at each end that fades in "
                   "over --fade_steps (progressive growing); e.g. --image_size 128 --grow_from "
                   "bundled --g_steps 1 (two G updates per D update, the DCGAN default, let the "
                   "new blocks make noise that D did not see; once the fade is over, resuming "
                   "with two kept D from winning: dev/runs/README.md) (default: none)")
    g.add_argument("--fade_steps", type=positive_int, metavar="N",
                   help=f"steps over which --grow_from's new blocks fade in (default: {T.fade_steps})")
    g.add_argument("--precision", choices=DTYPE_POLICIES,
                   default="float32", help="compute precision; mixed_bfloat16 is 1.5-1.8x faster on "
                   "CPUs with AVX-512 BF16, mixed_float16 suits GPUs (default: float32)")

    g = training.add_output_flags(p, T)
    g.add_argument("--export", metavar="DIR", help="after training, export the generator as a "
                   "SavedModel to DIR (default: no export)")

    return training.finish_parser(p)


def augment_policy(text: str) -> str:
    """argparse type of --augment: known transformation names, comma-separated, or none."""
    from ..augment import check_policy
    if text.strip().lower() == "none":
        return ""
    try:
        return ",".join(check_policy(name.strip() for name in text.split(",") if name.strip()))
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def command() -> training.Command:
    """dcgan-train's part of the shared training flow (cli/training.py)."""
    from ..config import ModelConfig
    from ..train import GANTrainer, TrainConfig, load_trainer_config
    return training.Command(
        load_saved=load_trainer_config, model_cls=ModelConfig, train_cls=TrainConfig,
        model_flags=MODEL_FLAGS, train_flags=TRAIN_FLAGS, make_trainer=GANTrainer,
        check_export=check_export, chief_callbacks=chief_callbacks, export=export,
        new_run=GANTrainer.start_new_run)


def check_export(args, chief: bool) -> None:
    """An export folder must be new or empty (files.OutputError)."""
    from .. import files
    if args.export:
        files.ensure_output_dir(args.export, must_be_empty=True, what="export folder")


def chief_callbacks(args, ready) -> list:
    from .. import callbacks
    return [callbacks.SampleGrid(args.sample_dir, every=args.sample_every),
            callbacks.TensorBoard(args.log_dir, image_every=args.sample_every)]


def main(argv=None) -> int:
    return training.run_command(build_parser(), command, argv)


def export(args, ready, status: int) -> int:
    """--export: the trained generator (its moving average, where kept) as a SavedModel;
    returns the exit status."""
    from .. import checkpoints, files
    if not args.export:
        return status
    trainer = ready.trainer
    try:
        checkpoints.export_generator(trainer.final_generator, args.export)
        log.info("generator exported to %s (SavedModel)", args.export)
    except (FileExistsError, files.OutputError) as e:
        log.error("%s", e)
        return EXIT_FAILED
    except KeyboardInterrupt:
        log.warning("interrupted during the export: training is complete (%s), and %s "
                    "was not written; run dcgan-export", trainer.run.last_checkpoint, args.export)
        return EXIT_INTERRUPTED
    return status


if __name__ == "__main__":
    sys.exit(main())
