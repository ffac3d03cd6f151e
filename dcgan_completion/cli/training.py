"""What the two training commands share: their common flags, the checks before the first
step, and the end of a run (fit, the messages, the list of skipped files, the exit status).

dcgan-train and dcgan-train-completion differ in their flags, their trainer, their
sample callbacks and their export (each a Command); everything that decides whether a
run may start, and what a stopped, diverged or finished run says, lives here once.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
from typing import Callable

from .common import (EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_PARTIAL, HelpFormatter,
                     add_strategy_flag, add_verbose_flag, error_message, fraction_below_one,
                     nonnegative_float, positive_float, positive_int, run_configs, setup_logging,
                     sigterm_as_interrupt)

log = logging.getLogger("dcgan-train")


# --- the flags both commands take -------------------------------------------------------
# Defaults live in the library's dataclasses: flags default to None ("not set"), and the
# help texts quote the library's values.

def new_parser(prog: str, description: str):
    """A training command's parser, with the data flags both take first."""
    p = argparse.ArgumentParser(prog=prog, description=description,
                                formatter_class=HelpFormatter, argument_default=None)
    add_data_flags(p)
    return p


def add_data_flags(p) -> None:
    g = p.add_argument_group("data")
    g.add_argument("--dataset", required=True, help="folder of training images, searched "
                   "recursively (png/jpg/jpeg/bmp/webp); required")
    g.add_argument("--train_size", type=positive_int, help="use at most this many images (default: all)")
    g.add_argument("--crop", action="store_true", default=None,
                   help="centre-crop to a square before resizing (for unaligned photos; default: off)")
    g.add_argument("--no_flip", dest="flip", action="store_false", default=None,
                   help="do not flip images horizontally at random (flips are on by default)")


def per_loss_default(loss_defaults: dict, key: str) -> str:
    """The help text's default of a setting that each loss sets: "wgan 0.01, ..." or "none"."""
    return ", ".join(f"{loss} {d[key]}" for loss, d in loss_defaults.items()
                     if d[key] is not None) or "none"


def add_objective_flags(p, loss_defaults: dict, train, updated: str, critic: bool = True):
    """The objective and optimiser flags; ``loss_defaults`` {loss: its published settings},
    ``train`` the default train config, ``updated`` what the non-critic updates train;
    ``critic`` False leaves out the critic's flags (--d_learning_rate, --d_steps,
    --g_steps, --gp_weight).
    Returns the group, for the command's own flags."""
    def per_loss(key):
        return per_loss_default(loss_defaults, key)

    g = p.add_argument_group("objective and optimisation (unset: the loss's published default)")
    g.add_argument("--loss", choices=tuple(loss_defaults), help=f"training objective (default: {train.loss})")
    g.add_argument("--epoch", dest="epochs", type=positive_int, help=f"total epochs to train (default: {train.epochs})")
    g.add_argument("--batch_size", type=positive_int, help=f"global batch size (default: {train.batch_size})")
    g.add_argument("--learning_rate", type=positive_float, help=f"(default: {per_loss('learning_rate')})")
    g.add_argument("--beta1", type=fraction_below_one, help=f"Adam beta1 (default: {per_loss('beta1')})")
    g.add_argument("--beta2", type=fraction_below_one, help=f"Adam beta2 (default: {per_loss('beta2')})")
    if not critic:
        return g
    g.add_argument("--d_learning_rate", type=positive_float,
                   help="the critic's own learning rate (two time-scale update rule; default: "
                   "--learning_rate)")
    g.add_argument("--d_steps", type=positive_int, help=f"critic updates per step (default: {per_loss('d_steps')})")
    g.add_argument("--g_steps", type=positive_int, help=f"{updated} updates per step (default: {per_loss('g_steps')})")
    g.add_argument("--gp_weight", type=nonnegative_float, help=f"gradient penalty weight (default: {per_loss('gp_weight')})")
    return g


def add_ema_flag(g, default: float, what: str) -> None:
    """--ema DECAY in group ``g``: a moving average of ``what``'s weights."""
    g.add_argument("--ema", type=fraction_below_one, metavar="DECAY",
                   help=f"keep a moving average of {what}'s weights with this decay, used for "
                   f"samples, export and completion; 0 = none (default: {default}; e.g. 0.999)")


def weights_to_start_from(text: str) -> str:
    """argparse type of --init_from: "bundled" (the bundled model's own) or a path, made
    absolute so that the saved config names the same file wherever a rerun starts."""
    return text if text == "bundled" else os.path.abspath(text)


def add_output_flags(p, train, suffix: str = ""):
    """--checkpoint_dir, --sample_dir, --log_dir (named checkpoint, samples, logs plus
    ``suffix``), how often to write, and the progress bar. Returns the group."""
    names = {"checkpoint_dir": "checkpoint", "sample_dir": "samples", "log_dir": "logs"}
    d = {k: v + suffix for k, v in names.items()}
    g = p.add_argument_group("outputs")
    g.add_argument("--checkpoint_dir", default=d["checkpoint_dir"], help="checkpoints and config.json; "
                   f"rerunning with the same folder resumes (default: {d['checkpoint_dir']})")
    g.add_argument("--sample_dir", default=d["sample_dir"], help=f"sample grids (default: {d['sample_dir']})")
    g.add_argument("--log_dir", default=d["log_dir"], help=f"TensorBoard logs (default: {d['log_dir']})")
    g.add_argument("--sample_every", type=positive_int, default=200, help="steps between sample grids (default: 200)")
    g.add_argument("--checkpoint_every", type=positive_int, help=f"steps between checkpoints (default: {train.checkpoint_every})")
    g.add_argument("--no_progress", action="store_true", help="no progress bar (for logs; default: shown)")
    return g


# --- what each command adds ---------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Command:
    """What one training command adds to the flow below, which is the same for both."""
    load_saved: Callable      # checkpoint_dir -> (model config, train config) saved there, or None
    model_cls: type           # the model config dataclass, filled from model_flags
    train_cls: type           # the train config dataclass, filled from train_flags
    model_flags: tuple
    train_flags: tuple
    make_trainer: Callable    # (model config, train config, checkpoint_dir, strategy) -> trainer
    check_export: Callable    # (args, chief): the command's own output, checked before the others
    chief_callbacks: Callable  # (args, ready) -> the callbacks that write files (the chief's)
    export: Callable          # (args, ready, status) -> status: the own output of a trained run
    describe: Callable = lambda trainer: ""   # what the start line adds after the dataset
    new_run: Callable = lambda trainer: None  # before a new run's first step (not on resume)


def finish_parser(p):
    """The flags every command ends with (scale-out, verbosity); returns the parser."""
    add_strategy_flag(p)
    add_verbose_flag(p)
    return p


# --- the start and the end of a run ------------------------------------------------------

def run_command(parser, command, argv=None) -> int:
    """Parse ``argv``, start quietly, and train with ``command()`` (a Command, made after
    the quiet start: making it imports TensorFlow): both commands' main()."""
    args = parser.parse_args(argv)
    setup_logging(args.verbose)
    sigterm_as_interrupt()
    try:
        return train(args, command())
    except KeyboardInterrupt:    # training itself handles its own interrupts
        log.warning("interrupted before training started; nothing was trained")
        return EXIT_INTERRUPTED


def train(args, command: Command) -> int:
    """The command, once its flags are parsed; returns the exit status."""
    try:
        ready = start(args, command)
    except Refused as e:
        log.error("%s", e)
        return EXIT_FAILED
    trainer, cfg = ready.trainer, ready.trainer.train_config
    log.info("%s %d images from %s%s; %s loss, batch %d, %d epochs of %d steps; %d replica(s)",
             "resuming on" if ready.resumed else "training on", len(ready.paths), args.dataset,
             command.describe(trainer), cfg.loss, cfg.batch_size, cfg.epochs,
             trainer.run.steps_per_epoch(len(ready.paths)), trainer.strategy.num_replicas_in_sync)

    def make_callbacks():
        from ..callbacks import ProgressBar
        cbs = [ProgressBar(disable=args.no_progress or not ready.chief)]
        return cbs + (command.chief_callbacks(args, ready) if ready.chief else [])

    status = finish(ready, make_callbacks, args)
    if status in (EXIT_OK, EXIT_PARTIAL):
        status = command.export(args, ready, status)
    return status


class Refused(Exception):
    """A training run that cannot start; the message says why. Nothing was trained."""


@dataclasses.dataclass
class Ready:
    """A run ready for its first step: the trainer (restored when resuming), its files."""
    trainer: object
    paths: list
    report: object             # data.BadFileReport: the files skipped so far
    chief: bool                # whether this process writes the run's files
    resumed: bool


def start(args, command: Command) -> Ready:
    """Everything that can refuse a run, in the order that writes least: the configs (a
    saved run's, or new ones from the flags), the images, every output location
    (check_outputs), then the trainer, which resumes from the newest intact checkpoint.

    Raises Refused with the reason, having removed again the output folders it made; the
    caller exits 2.
    """
    from .. import files
    outputs = [getattr(args, name) for name in OUTPUT_FOLDERS if getattr(args, name, None)]
    if getattr(args, "export_weights", None):
        outputs.append(os.path.dirname(os.path.abspath(args.export_weights)))
    new = files.missing_folders(*outputs)
    try:
        return _start(args, command)
    except Refused:
        files.remove_empty(new)
        raise


# The flag that fixes an error of making the trainer, by the setting the error names.
TRAINER_FIXES = {"batch_size": "--batch_size", "source": "--model PATH",
                 "init_from": "--init_from WEIGHTS, or a model flag that matches it",
                 "grow_from": "--grow_from WEIGHTS of half the --image_size, or model flags "
                              "that match it"}

# Flags naming output folders (or, export_weights, a file in one): made by the checks.
OUTPUT_FOLDERS = ("checkpoint_dir", "sample_dir", "log_dir", "export")


def _start(args, command: Command) -> Ready:
    from .. import data, files
    from ..config import ConfigError
    from ..engine import CheckpointRestoreError, is_chief, pick_strategy
    try:
        model_config, train_config = run_configs(
            args, command.load_saved(args.checkpoint_dir), command.model_cls, command.train_cls,
            command.model_flags, command.train_flags)
        train_config = train_config.resolved()
        report = data.BadFileReport()
        paths = data.find_training_images(
            args.dataset, min_count=train_config.images_per_step,
            report=report, limit=train_config.train_size)
        strategy = pick_strategy(args.strategy)
        chief = is_chief(strategy)   # other workers of a cluster train but write nothing
        check_outputs(args, chief, command.check_export)
    except files.OutputError as e:
        raise Refused(f"{e}; nothing was trained") from e
    except (ValueError, ConfigError, data.DatasetError) as e:   # flags, saved run, data
        raise Refused(error_message(e, {"batch_size": "--batch_size"})) from e
    try:
        trainer = command.make_trainer(model_config, train_config, args.checkpoint_dir, strategy)
    except ValueError as e:     # e.g. a model to load that cannot be (checkpoints.CheckpointError)
        raise Refused(f"{error_message(e, TRAINER_FIXES)}; nothing was trained") from e
    try:
        resumed = trainer.run.restore()
    except CheckpointRestoreError as e:
        raise Refused(str(e)) from e
    if not resumed:
        try:
            command.new_run(trainer)
        except ValueError as e:  # e.g. a weights file to start from that does not fit
            raise Refused(f"{error_message(e, TRAINER_FIXES)}; nothing was trained") from e
    return Ready(trainer, paths, report, chief, resumed)


def check_outputs(args, chief: bool, check_export) -> None:
    """Refuse unusable output locations before any training (files.OutputError)."""
    from .. import files
    check_export(args, chief)     # first: a refusal here creates no folder
    files.ensure_output_dir(args.checkpoint_dir, what="checkpoint folder")
    if chief:    # only the chief writes samples and logs
        files.ensure_output_dir(args.sample_dir, what="sample folder")
        files.ensure_output_dir(args.log_dir, what="log folder")


SAMPLE_COUNT = 32     # fixed inputs of the sample grids of a network that completes inputs


def pair_callbacks(args, ready, sample_inputs, side_by_side, tag: str) -> list:
    """The sample grid and TensorBoard images (under ``tag``) of fixed inputs, each beside
    what the network makes of it: ``sample_inputs(paths, model config, count, crop=,
    report=)`` gives the inputs (the first readable files), ``side_by_side(trainer,
    *inputs)`` the pairs as uint8 (2N, S, S, C)."""
    from ..callbacks import PairGrid, PairTensorBoard
    trainer = ready.trainer
    inputs = sample_inputs(ready.paths, trainer.model_config, SAMPLE_COUNT,
                           crop=trainer.train_config.crop, report=ready.report)

    def pairs(trainer):
        return side_by_side(trainer, *inputs)

    count = len(inputs[0])
    return [PairGrid(args.sample_dir, pairs, count, every=args.sample_every),
            PairTensorBoard(args.log_dir, pairs, count, tag, image_every=args.sample_every)]


def check_new_weights_file(args, chief: bool) -> None:
    """--export_weights must name a new file (files.OutputError); only the chief writes it."""
    from .. import files
    if args.export_weights and chief:
        files.check_new_file(args.export_weights, what="weights file")


def export_weights(args, ready, status: int, save, what: str) -> int:
    """--export_weights: ``save(trainer, path)`` writes the trained network's weights file;
    returns the exit status (``status``, or 130 when interrupted while writing)."""
    if not (args.export_weights and ready.chief):
        return status
    trainer = ready.trainer
    try:
        save(trainer, args.export_weights)
    except KeyboardInterrupt:
        log.warning("interrupted while writing %s: training is complete (%s); rerun the "
                    "same command to write the weights file", args.export_weights,
                    trainer.run.last_checkpoint)
        return EXIT_INTERRUPTED
    log.info("%s weights written to %s", what, args.export_weights)
    return status


def stopped_message(run) -> str:
    """What an interrupted engine.TrainingRun says: its step and newest checkpoint."""
    step = int(run.step.numpy())
    if run.last_checkpoint and run.last_checkpoint.endswith(f"ckpt-{step}"):
        return f"stopped at step {step}, saved in {run.last_checkpoint}; rerun the same command to resume"
    saved = run.last_checkpoint or "no checkpoint"
    return f"stopped at step {step}; newest checkpoint: {saved}; rerun the same command to resume"


def finish(ready: Ready, make_callbacks, args) -> int:
    """Train ``ready`` to its last epoch with the callbacks ``make_callbacks()`` returns (made
    here, since making them may read images too); returns the exit status: 0 done, 1 done
    but files were skipped (listed in checkpoint_dir/skipped_files.txt), 2 diverged or no
    image could be decoded, 130 interrupted (the newest checkpoint is named)."""
    from .. import data
    from ..engine import TrainingDiverged, record_skipped
    run = ready.trainer.run
    status = EXIT_OK
    try:
        run.fit(ready.paths, make_callbacks(), ready.report)
        log.info("done: step %d, checkpoint in %s, samples in %s, TensorBoard logs in %s",
                 int(run.step.numpy()), args.checkpoint_dir, args.sample_dir, args.log_dir)
    except KeyboardInterrupt:
        log.warning("%s", stopped_message(run))
        status = EXIT_INTERRUPTED
    except TrainingDiverged as e:
        log.error("%s. Lower --learning_rate (now %g) and train in a new --checkpoint_dir: a "
                  "run's learning rate cannot change on resume", e, run.train_config.learning_rate)
        status = EXIT_FAILED
    except data.DatasetError as e:
        log.error("%s", e)
        status = EXIT_FAILED
    listed = record_skipped(ready.report, args.checkpoint_dir) if ready.chief else None
    if ready.report.reasons:
        log.warning("%d file(s) could not be used and were skipped%s:\n  %s", len(ready.report),
                    f" (listed in {listed})" if listed else "",
                    "\n  ".join(ready.report.reasons.values()))
        if status == EXIT_OK:
            status = EXIT_PARTIAL
    return status
