"""What the two training commands share: the checks before the first step, and the end of a
run (fit, the messages, the list of skipped files and the exit status).

dcgan-train and dcgan-train-completion differ in their flags, their trainer and their
callbacks; everything that decides whether a run may start, and what a stopped,
diverged or finished run says, lives here once.
"""

from __future__ import annotations

import dataclasses
import logging
import os

from .common import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_PARTIAL

log = logging.getLogger("dcgan-train")


class Refused(Exception):
    """A training run that cannot start; the message says why. Nothing was trained."""


@dataclasses.dataclass
class Run:
    """A run ready for its first step: the trainer (restored when resuming), its files."""
    trainer: object
    paths: list
    report: object             # data.BadFileReport: the files skipped so far
    chief: bool                # whether this process writes the run's files
    resumed: bool


def start(args, configs, check_outputs, make_trainer) -> Run:
    """Everything that can refuse a run, in the order that writes least: ``configs()``
    gives (model config, train config), the images are found, ``check_outputs(args,
    chief)`` checks every output location, ``make_trainer(model config, train config,
    strategy)`` builds the trainer, which then resumes from the newest intact checkpoint.

    Raises Refused with the reason, having removed again the output folders it made; the
    caller exits 2.
    """
    from .. import files
    outputs = [getattr(args, name) for name in OUTPUT_FOLDERS if getattr(args, name, None)]
    if getattr(args, "export_weights", None):
        outputs.append(os.path.dirname(os.path.abspath(args.export_weights)))
    new = files.missing_folders(*outputs)
    try:
        return _start(args, configs, check_outputs, make_trainer)
    except Refused:
        files.remove_empty(new)
        raise


# Flags naming output folders (or, export_weights, a file in one): made by the checks.
OUTPUT_FOLDERS = ("checkpoint_dir", "sample_dir", "log_dir", "export")


def _start(args, configs, check_outputs, make_trainer) -> Run:
    from .. import data, files
    from ..config import ConfigError
    from ..train import CheckpointRestoreError, is_chief, pick_strategy
    try:
        model_config, train_config = configs()
        train_config = train_config.resolved()
        report = data.BadFileReport()
        paths = data.find_training_images(
            args.dataset, min_count=train_config.batch_size * train_config.d_steps,
            report=report, limit=train_config.train_size)
        strategy = pick_strategy(args.strategy)
        chief = is_chief(strategy)   # other workers of a cluster train but write nothing
        check_outputs(args, chief)
    except files.OutputError as e:
        raise Refused(f"{e}; nothing was trained") from e
    except (ValueError, ConfigError, data.DatasetError) as e:   # flags, saved run, data
        raise Refused(str(e)) from e
    trainer = make_trainer(model_config, train_config, strategy)
    try:
        resumed = trainer.restore()
    except CheckpointRestoreError as e:
        raise Refused(str(e)) from e
    return Run(trainer, paths, report, chief, resumed)


def stopped_message(trainer) -> str:
    step = int(trainer.step.numpy())
    if trainer.last_checkpoint and trainer.last_checkpoint.endswith(f"ckpt-{step}"):
        return f"stopped at step {step}, saved in {trainer.last_checkpoint}; rerun the same command to resume"
    saved = trainer.last_checkpoint or "no checkpoint"
    return f"stopped at step {step}; newest checkpoint: {saved}; rerun the same command to resume"


def finish(run: Run, make_callbacks, args) -> int:
    """Train ``run`` to its last epoch with the callbacks ``make_callbacks()`` returns (made
    here, since making them may read images too); returns the exit status: 0 done, 1 done
    but files were skipped (listed in checkpoint_dir/skipped_files.txt), 2 diverged or no
    image could be decoded, 130 interrupted (the newest checkpoint is named)."""
    from .. import data
    from ..train import TrainingDiverged, record_skipped
    trainer = run.trainer
    status = EXIT_OK
    try:
        trainer.fit(run.paths, make_callbacks(), run.report)
        log.info("done: step %d, checkpoint in %s, samples in %s, TensorBoard logs in %s",
                 int(trainer.step.numpy()), args.checkpoint_dir, args.sample_dir, args.log_dir)
    except KeyboardInterrupt:
        log.warning("%s", stopped_message(trainer))
        status = EXIT_INTERRUPTED
    except TrainingDiverged as e:
        log.error("%s. Lower --learning_rate (now %g) and train in a new --checkpoint_dir: a "
                  "run's learning rate cannot change on resume", e,
                  trainer.train_config.learning_rate)
        status = EXIT_FAILED
    except data.DatasetError as e:
        log.error("%s", e)
        status = EXIT_FAILED
    listed = record_skipped(run.report, args.checkpoint_dir) if run.chief else None
    if run.report.reasons:
        log.warning("%d file(s) could not be used and were skipped%s:\n  %s", len(run.report),
                    f" (listed in {listed})" if listed else "",
                    "\n  ".join(run.report.reasons.values()))
        if status == EXIT_OK:
            status = EXIT_PARTIAL
    return status
