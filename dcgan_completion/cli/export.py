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
So is a dcgan-train-encoder folder: --weights writes the encoder's weights file (float16,
about 15 MB), to be put beside its model as NAME.encoder.npz.

--out is checked before anything is loaded, and written under a hidden temporary name
that is renamed once complete: a stopped export leaves nothing half-written.
Exit status: 0 exported, 2 nothing exported (bad checkpoint or --out), 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys

from .common import (EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, HelpFormatter, add_verbose_flag,
                     setup_logging)

log = logging.getLogger("dcgan-export")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="dcgan-export", description=__doc__, formatter_class=HelpFormatter)
    p.add_argument("--checkpoint_dir", required=True, help="a folder written by dcgan-train, "
                   "dcgan-train-completion or dcgan-train-encoder; required")
    p.add_argument("--out", required=True, help="new folder for the SavedModel (must not exist or "
                   "be empty), or with --weights a new .npz file; required")
    p.add_argument("--weights", action="store_true",
                   help="write a compact weights file instead of a SavedModel")
    add_verbose_flag(p)
    args = p.parse_args(argv)
    setup_logging(args.verbose)
    from .. import files
    from ..checkpoints import check_export_dir, export_generator, load_models, save_weights_file
    try:
        # The destination first: a bad --out is reported before a model is loaded.
        if args.weights:
            files.check_new_file(args.out, what="weights file")
        else:
            check_export_dir(args.out)
        exports = other_exports()          # the runs that hold no DCGAN, by their config's kind
        kind = run_kind(args.checkpoint_dir)
        if kind in exports:
            export_weights_only(args.checkpoint_dir, args.out, args.weights, *exports[kind])
            return EXIT_OK
        config, generator, discriminator = load_models(args.checkpoint_dir)
        if args.weights:
            save_weights_file(config, generator, discriminator, args.out)
        else:
            export_generator(generator, args.out)
    except KeyboardInterrupt:
        log.warning("interrupted: nothing exported (%s was not written)", args.out)
        return EXIT_INTERRUPTED
    # CheckpointError, ConfigError and files.OutputError are ValueErrors; OSError: an
    # existing --out, a full disk.
    except (ValueError, OSError) as e:
        log.error("%s", e)
        return EXIT_FAILED
    log.info("%s exported to %s", "weights" if args.weights else "generator", args.out)
    return EXIT_OK


def run_kind(checkpoint_dir: str) -> str | None:
    """The "kind" in a run folder's config.json (None for a DCGAN's, or none at all)."""
    from ..config import CONFIG_FILE
    try:
        with open(os.path.join(checkpoint_dir, CONFIG_FILE)) as f:
            return json.load(f).get("kind")
    except (OSError, ValueError, AttributeError):
        return None         # no or another config: load_models reports it


def other_exports() -> dict:
    """{config kind: (what it holds, load(folder) -> (config, net), save(config, net, path))}
    of the other trainers' run folders: only their weights file can be exported."""
    from ..checkpoints import load_encoder, save_encoder_weights
    from ..completion_net.networks import CONFIG_KIND as NET_KIND
    from ..completion_net.weights import load_completion_net, save_completion_net_weights
    from ..encoder import CONFIG_KIND as ENCODER_KIND
    return {NET_KIND: ("completion network", load_completion_net, save_completion_net_weights),
            ENCODER_KIND: ("encoder", load_encoder, save_encoder_weights)}


def export_weights_only(checkpoint_dir: str, out: str, weights: bool, what: str, load, save) -> None:
    """--weights of a run folder holding ``what`` (``out`` already checked)."""
    from ..checkpoints import CheckpointError
    if not weights:
        article = "an" if what[0] in "aeiou" else "a"
        raise CheckpointError(f"{checkpoint_dir} holds {article} {what}: only --weights export "
                              "is supported for it")
    config, net = load(checkpoint_dir)
    save(config, net, out)
    log.info("%s weights exported to %s", what, out)


if __name__ == "__main__":
    sys.exit(main())
