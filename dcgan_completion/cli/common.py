"""Small pieces shared by the command-line front ends."""

from __future__ import annotations

import argparse
import logging
import signal


def setup_logging(verbose: bool = False) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(levelname)s: %(message)s")
    for noisy in ("tensorflow", "absl"):   # TensorFlow's own INFO lines are not for users
        logging.getLogger(noisy).setLevel(logging.WARNING)


def sigterm_as_interrupt() -> None:
    """Turn SIGTERM (a scheduler's stop) into KeyboardInterrupt, so it checkpoints like Ctrl-C."""
    def handler(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, handler)


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the description's line breaks. Each flag's help states its default itself:
    flags default to None ("not set") so that the library's defaults apply."""
