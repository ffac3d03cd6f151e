"""dcgan-export: write a trained generator as a TensorFlow SavedModel.

    dcgan-export --checkpoint_dir checkpoint --out exported_generator

The SavedModel needs no code of this project: `tf.saved_model.load(dir).generate(z)`.
"""

from __future__ import annotations

import argparse
import logging
import sys

from .common import HelpFormatter, setup_logging

log = logging.getLogger("dcgan-export")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="dcgan-export", description=__doc__, formatter_class=HelpFormatter)
    p.add_argument("--checkpoint_dir", required=True, help="a folder written by dcgan-train; required")
    p.add_argument("--out", required=True, help="new folder for the SavedModel (must not exist or be empty); required")
    args = p.parse_args(argv)
    setup_logging()
    from ..checkpoints import CheckpointError, export_generator, load_models
    from ..config import ConfigError
    try:
        _, generator, _ = load_models(args.checkpoint_dir)
        export_generator(generator, args.out)
    except (CheckpointError, ConfigError, FileNotFoundError, FileExistsError) as e:
        log.error("%s", e)
        return 2
    log.info("generator exported to %s", args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
