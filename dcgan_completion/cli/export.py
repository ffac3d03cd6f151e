"""dcgan-export: write a trained model as a SavedModel or as a compact weights file.

    dcgan-export --checkpoint_dir checkpoint --out exported_generator
    dcgan-export --checkpoint_dir checkpoint --out faces.npz --weights

The SavedModel holds the generator and needs no code of this project:
`tf.saved_model.load(dir).generate(z)`. --weights writes both networks' weights in float16
with the model config (an .npz, about 19 MB for the default model, loaded without
pickle): what the bundled model is, and what --checkpointDir also accepts.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from .common import HelpFormatter, setup_logging

log = logging.getLogger("dcgan-export")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="dcgan-export", description=__doc__, formatter_class=HelpFormatter)
    p.add_argument("--checkpoint_dir", required=True, help="a folder written by dcgan-train; required")
    p.add_argument("--out", required=True, help="new folder for the SavedModel (must not exist or "
                   "be empty), or with --weights a new .npz file; required")
    p.add_argument("--weights", action="store_true",
                   help="write a compact weights file instead of a SavedModel")
    args = p.parse_args(argv)
    setup_logging()
    from ..checkpoints import CheckpointError, export_generator, load_models, save_weights_file
    from ..config import ConfigError
    try:
        config, generator, discriminator = load_models(args.checkpoint_dir)
        if not args.weights:
            export_generator(generator, args.out)
        elif os.path.exists(args.out):
            raise FileExistsError(f"{args.out} exists; choose a new file (nothing is overwritten)")
        else:
            save_weights_file(config, generator, discriminator, args.out)
    except (CheckpointError, ConfigError, FileNotFoundError, FileExistsError) as e:
        log.error("%s", e)
        return 2
    log.info("%s exported to %s", "weights" if args.weights else "generator", args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
