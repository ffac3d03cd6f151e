"""Small pieces shared by the command-line front ends.

Exit status, the same for every command (the README's "Exit status" section):
  0    everything asked for was done
  1    done, but some inputs were skipped (each is named, and listed in the run's files)
  2    nothing done: a usage error, or a missing or invalid input, model or output folder
  130  interrupted (Ctrl-C or SIGTERM); what was finished is kept and said
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import math
import signal

from ..config import SEED_MAX

EXIT_OK, EXIT_PARTIAL, EXIT_FAILED, EXIT_INTERRUPTED = 0, 1, 2, 130

# Settings a resumed training run may change; the others must match the run being resumed.
RESUMABLE_CHANGES = ("epochs", "checkpoint_every", "train_size")


def setup_logging(verbose: bool = False) -> None:
    """Our messages as ``LEVEL: text``; TensorFlow started quietly unless ``verbose``."""
    from ..runtime import start_tensorflow
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(levelname)s: %(message)s")
    for noisy in ("tensorflow", "absl"):   # TensorFlow's own INFO lines are not for users
        logging.getLogger(noisy).setLevel(logging.WARNING)
    tf = start_tensorflow(verbose)
    # TensorFlow's logger has a handler of its own and also reaches ours: every warning of
    # it showed twice ("WARNING:tensorflow:..." then "WARNING: ..."). Ours alone prints.
    tf.get_logger().handlers.clear()


def error_message(error: Exception, flags: dict[str, str]) -> str:
    """``error``'s message, followed by the flag that fixes it where this command has one.

    Library errors speak the library's language: one that a setting would fix names it in
    ``error.setting`` (e.g. "predictor_path"); ``flags`` maps those names to this
    command's flags (e.g. {"predictor_path": "--dlibFacePredictor PATH"}).
    """
    flag = flags.get(getattr(error, "setting", None))
    return f"{error} ({flag})" if flag else str(error)


def add_verbose_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--verbose", action="store_true",
                        help="debug messages, and TensorFlow's own start-up messages (default: off)")


# --- argparse types: bad numbers are refused at parse time, with the flag named -----------

def _number(text: str, kind, what: str, ok) -> int | float:
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
    if kind is float and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
    if not ok(value):
        raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}")
    return value


def positive_int(text: str) -> int:
    """argparse type: a whole number of at least 1."""
    return _number(text, int, "a whole number of at least 1", lambda v: v >= 1)


def nonnegative_int(text: str) -> int:
    """argparse type: a whole number of at least 0."""
    return _number(text, int, "a whole number of at least 0", lambda v: v >= 0)


def finite_float(text: str) -> float:
    """argparse type: any finite number (no nan, no inf)."""
    return _number(text, float, "a finite number", lambda v: True)


def nonnegative_float(text: str) -> float:
    """argparse type: a finite number >= 0."""
    return _number(text, float, "a finite number >= 0", lambda v: v >= 0)


def positive_float(text: str) -> float:
    """argparse type: a finite number > 0."""
    return _number(text, float, "a finite number > 0", lambda v: v > 0)


def fraction(text: str) -> float:
    """argparse type: a number in [0, 1]."""
    return _number(text, float, "a number between 0 and 1", lambda v: 0 <= v <= 1)


def fraction_below_one(text: str) -> float:
    """argparse type: a number in [0, 1) (Adam's beta1 and beta2)."""
    return _number(text, float, "a number in [0, 1)", lambda v: 0 <= v < 1)


def number_in(kind, low, high):
    """argparse type: a number of ``kind`` (int or float) from ``low`` to ``high``."""
    what = f"a {'whole number' if kind is int else 'number'} from {low} to {high}"

    def parse(text: str):
        return _number(text, kind, what, lambda v: low <= v <= high)

    parse.__name__ = f"{kind.__name__} from {low} to {high}"
    return parse


def part_of_n(text: str) -> tuple[int, int]:
    """argparse type: K/N, part K of N (1 <= K <= N), e.g. --shard 2/4."""
    try:
        k, n = (int(v) for v in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be K/N (e.g. 2/4), got {text!r}") from None
    if not 1 <= k <= n:
        raise argparse.ArgumentTypeError(f"K must be from 1 to N, got {text!r}")
    return k, n


seed = number_in(int, 0, SEED_MAX)
seed.__doc__ = "argparse type: a seed, a whole number from 0 to 2**32 - 1."


def add_flag(group, camel: str, kebab: str | None = None, **kw):
    """Add --camelCase (the original tool's spelling) and its --kebab-case alias."""
    names = [f"--{camel}"] + ([f"--{kebab}"] if kebab else [])
    return group.add_argument(*names, **kw)


def sigterm_as_interrupt() -> None:
    """Turn SIGTERM (a scheduler's stop) into KeyboardInterrupt, so it checkpoints like Ctrl-C.

    SIGINT gets Python's own handler back too: a shell starts background jobs with SIGINT
    ignored, and such a run must still stop cleanly on ``kill -INT``.
    """
    def handler(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, signal.default_int_handler)


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the description's line breaks. Each flag's help states its default itself:
    flags default to None ("not set") so that the library's defaults apply."""


def add_strategy_flag(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("scale-out")
    g.add_argument("--strategy", choices=("auto", "default", "mirrored", "multiworker"),
                   default="auto", help="tf.distribute strategy: auto picks multiworker when "
                   "TF_CONFIG is set, mirrored on several GPUs, else one device (default: auto)")


def given(args, names) -> dict:
    """The flags among ``names`` that the user set (flags default to None = not set)."""
    return {k: getattr(args, k) for k in names if getattr(args, k) is not None}


def resume_configs(checkpoint_dir: str, saved, model_flags: dict, train_flags: dict):
    """(model config, train config) of the run saved in ``checkpoint_dir``, with the
    resumable changes the flags ask for; ValueError when a flag contradicts the saved run."""
    model, train = saved
    conflicts = [f"--{k} {v} (saved: {getattr(model, k)})" for k, v in model_flags.items()
                 if getattr(model, k) != v]
    conflicts += [f"--{k} {v} (saved: {getattr(train, k)})" for k, v in train_flags.items()
                  if k not in RESUMABLE_CHANGES and getattr(train, k) != v]
    if conflicts:
        raise ValueError(f"{checkpoint_dir} holds a run with other settings: "
                         f"{'; '.join(conflicts)}. Use a new --checkpoint_dir for a new run, "
                         "or drop these flags to resume.")
    changes = {k: v for k, v in train_flags.items() if k in RESUMABLE_CHANGES}
    return model, dataclasses.replace(train, **changes)


def run_configs(args, saved, model_cls, train_cls, model_names, train_names):
    """(model config, train config) for a training run: new ones from the flags among
    ``model_names`` / ``train_names`` when ``saved`` is None, else the saved run's (see
    resume_configs). --precision applies either way: it may change on resume."""
    model_flags, train_flags = given(args, model_names), given(args, train_names)
    if saved is None:
        return model_cls(**model_flags, dtype_policy=args.precision), train_cls(**train_flags)
    model, train = resume_configs(args.checkpoint_dir, saved, model_flags, train_flags)
    return model.replace(dtype_policy=args.precision), train
