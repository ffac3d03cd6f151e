"""dcgan-demo: complete two real faces with the bundled model, no data of yours needed.

    dcgan-demo --outDir demo

Takes two photographs that ship inside installed packages (scikit-image's astronaut,
Eileen Collins, and matplotlib's Grace Hopper), aligns each face, hides its centre,
completes it with the bundled face model and pastes it back into the photo. Writes:
  demo/photos/                    the two photographs
  demo/before_after/<name>.png    the damaged photo beside the restored one
  demo/completion/                what ./complete.py --photo writes: restored/, damaged/,
                                  the aligned faces, grids, completion.gif, losses.csv,
                                  inputs.csv
A few minutes on a 2-core CPU (1000 iterations for two faces).
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys

import numpy as np

from .common import (EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_PARTIAL, HelpFormatter,
                     add_flag, add_verbose_flag, error_message, positive_int, setup_logging,
                     sigterm_as_interrupt)

log = logging.getLogger("dcgan-demo")


def demo_photos(folder: str) -> list[str]:
    """Copy the sample photos into ``folder``; returns their paths."""
    import matplotlib.cbook
    from skimage import data

    from ..images import save_image
    os.makedirs(folder, exist_ok=True)
    astronaut = os.path.join(folder, "astronaut.png")
    save_image(astronaut, data.astronaut())
    hopper = os.path.join(folder, "grace_hopper.jpg")
    shutil.copyfile(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False), hopper)
    return [astronaut, hopper]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="dcgan-demo", description=__doc__, formatter_class=HelpFormatter)
    add_flag(p, "outDir", "out-dir", dest="out_dir", default="demo",
             help="new or empty output folder (default: demo)")
    add_flag(p, "checkpointDir", "checkpoint-dir", dest="checkpoint_dir",
             help="another model: checkpoint folder or weights file (default: the bundled one)")
    add_flag(p, "nIter", "n-iter", dest="n_iter", type=positive_int,
             help="iterations (default: complete's default)")
    add_verbose_flag(p)
    args = p.parse_args(argv)
    setup_logging(args.verbose)
    sigterm_as_interrupt()
    from .. import files
    from ..align import AlignError
    from ..checkpoints import CheckpointError
    from ..config import ConfigError
    new = files.missing_folders(args.out_dir)
    try:
        status = restore_demo_photos(args.out_dir, args.checkpoint_dir, args.n_iter)
    except (CheckpointError, ConfigError, AlignError, ValueError) as e:   # files.OutputError too
        log.error("%s", error_message(e, {"source": "--checkpointDir DIR"}))
        status = EXIT_FAILED
    except KeyboardInterrupt:
        log.warning("interrupted; the pictures completed so far are in %s", args.out_dir)
        return EXIT_INTERRUPTED
    if status == EXIT_FAILED:               # nothing done: take back the photos copied
        shutil.rmtree(os.path.join(args.out_dir, "photos"), ignore_errors=True)
        files.remove_empty(new)
    return status


def restore_demo_photos(out_dir: str, checkpoint_dir: str | None, n_iter: int | None) -> int:
    """Complete the centre of the demo photos' faces with the library, as ./complete.py
    --photo does, and write the before/after pictures; returns the exit status."""
    from .. import align, completion, files, inputs, masks, outputs, photos
    from ..checkpoints import load_model, start_encoder
    from ..config import BATCH_SIZE
    from ..images import load_image, save_image
    config, G, D = load_model(checkpoint_dir)                  # None: the bundled model
    completion_dir = os.path.join(out_dir, "completion")
    files.ensure_output_dir(out_dir, must_be_empty=True, what="output folder")
    spec = masks.MaskSpec(size=config.image_size)              # the default: a centre hole
    encoder, _ = start_encoder(checkpoint_dir, config, None)   # the model's, if it has one
    settings = completion.default_settings(completion.start_of(encoder))
    settings["n_iter"] = n_iter or settings["n_iter"]
    faces, failed = photos.find_faces(demo_photos(os.path.join(out_dir, "photos")), spec,
                                      align.FaceAligner())
    for reason in failed.values():
        log.error("skipping %s", reason)
    if not faces:
        return EXIT_FAILED
    files.ensure_output_dir(completion_dir, must_be_empty=True, what="output folder")
    paths = [f.path for f in faces]
    names = inputs.unique_names(paths)
    record = outputs.RunRecord(completion_dir, paths, names, failed, with_losses=True)
    outputs.run_projection(record, names, np.stack([f.face.image for f in faces]),
                           spec.stack([f.mask for f in faces]), G, D, settings, BATCH_SIZE,
                           faces=faces, encoder=encoder)
    for name in names:
        before = load_image(os.path.join(completion_dir, "damaged", name))
        after = load_image(os.path.join(completion_dir, "restored", name))
        gap = np.full((before.shape[0], 8, 3), 255, np.uint8)
        save_image(os.path.join(out_dir, "before_after", name),
                   np.concatenate([before, gap, after], axis=1))
    log.info("before/after pictures in %s, the completion GIF in %s",
             os.path.join(out_dir, "before_after"),
             os.path.join(completion_dir, "batch000", "completion.gif"))
    return EXIT_PARTIAL if failed else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
