"""dcgan-export: write a trained model as a SavedModel or as a compact weights file.

    dcgan-export --checkpoint_dir checkpoint --out exported_generator
    dcgan-export --checkpoint_dir checkpoint --out faces.npz --weights

The SavedModel holds the generator and needs no code of this project:
`tf.saved_model.load(dir).generate(z)`. --weights writes both networks' weights in float16
with the model config (an .npz, about 19 MB for the default model, loaded without
pickle): what the bundled model is, and what --checkpointDir also accepts.

A dcgan-train-completion folder is recognised by its config.json: --weights then writes
the completion network's weights file (about 3 MB; what --method network and
dcgan-evaluate --networkDir accept), e.g. after a run was stopped before its last epoch.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys

from .common import HelpFormatter, add_verbose_flag, setup_logging

log = logging.getLogger("dcgan-export")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="dcgan-export", description=__doc__, formatter_class=HelpFormatter)
    p.add_argument("--checkpoint_dir", required=True, help="a folder written by dcgan-train or "
                   "dcgan-train-completion; required")
    p.add_argument("--out", required=True, help="new folder for the SavedModel (must not exist or "
                   "be empty), or with --weights a new .npz file; required")
    p.add_argument("--weights", action="store_true",
                   help="write a compact weights file instead of a SavedModel")
    add_verbose_flag(p)
    args = p.parse_args(argv)
    setup_logging(args.verbose)
    from ..checkpoints import CheckpointError, export_generator, load_models, save_weights_file
    from ..config import ConfigError
    try:
        if is_completion_run(args.checkpoint_dir):
            return export_completion_net(args.checkpoint_dir, args.out, args.weights)
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


def is_completion_run(checkpoint_dir: str) -> bool:
    from ..completion_net import CONFIG_FILE, CONFIG_KIND
    try:
        with open(os.path.join(checkpoint_dir, CONFIG_FILE)) as f:
            return json.load(f).get("kind") == CONFIG_KIND
    except (OSError, ValueError, AttributeError):
        return False        # no or another config: load_models reports it


def export_completion_net(checkpoint_dir: str, out: str, weights: bool) -> int:
    from ..checkpoints import CheckpointError
    from ..train_completion import load_completion_net, save_completion_net_weights
    if not weights:
        raise CheckpointError(f"{checkpoint_dir} holds a completion network: only --weights "
                                "export is supported for it")
    if os.path.exists(out):
        raise FileExistsError(f"{out} exists; choose a new file (nothing is overwritten)")
    config, net = load_completion_net(checkpoint_dir)
    save_completion_net_weights(config, net, out)
    log.info("completion network weights exported to %s", out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
