"""dcgan-demo: complete two real faces with the bundled model, no data of yours needed.

    dcgan-demo --outDir demo

Takes two photographs that ship inside installed packages (scikit-image's astronaut,
Eileen Collins, and matplotlib's Grace Hopper), aligns each face, hides its centre,
completes it with the bundled face model and pastes it back into the photo. Writes:
  demo/photos/                    the two photographs
  demo/before_after/<name>.png    the damaged photo beside the restored one
  demo/completion/                everything ./complete.py --photo writes: restored/,
                                  damaged/, the aligned faces, grids, completion.gif, losses.csv,
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

from .common import (EXIT_FAILED, EXIT_OK, HelpFormatter, add_verbose_flag, positive_int,
                     setup_logging)

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
    p.add_argument("--outDir", "--out-dir", dest="out_dir", default="demo",
                   help="new or empty output folder (default: demo)")
    p.add_argument("--checkpointDir", "--checkpoint-dir", dest="checkpoint_dir",
                   help="another model: checkpoint folder or weights file (default: the bundled one)")
    p.add_argument("--nIter", "--n-iter", dest="n_iter", type=positive_int,
                   help="iterations (default: complete's default)")
    add_verbose_flag(p)
    args = p.parse_args(argv)
    setup_logging(args.verbose)
    from .. import files
    from ..checkpoints import CheckpointError, load_model
    from . import complete as complete_cli
    new = files.missing_folders(args.out_dir)
    try:
        if args.checkpoint_dir:             # checked before anything is written
            load_model(args.checkpoint_dir)
        complete_cli.check_out_dir(args.out_dir)
    except (CheckpointError, ValueError) as e:   # files.OutputError: not empty, a file, read-only
        log.error("%s", e)
        return EXIT_FAILED
    photos = demo_photos(os.path.join(args.out_dir, "photos"))
    completion_dir = os.path.join(args.out_dir, "completion")
    argv = ["--photo", "--outDir", completion_dir, *photos]
    if args.checkpoint_dir:
        argv += ["--checkpointDir", args.checkpoint_dir]
    if args.n_iter:
        argv += ["--nIter", str(args.n_iter)]
    status = complete_cli.main(argv)
    if status == EXIT_FAILED:               # nothing done: take back the photos copied
        shutil.rmtree(os.path.dirname(photos[0]), ignore_errors=True)
        files.remove_empty(new)
    if status != EXIT_OK:
        return status

    from ..images import load_image, save_image
    for name in sorted(os.listdir(os.path.join(completion_dir, "restored"))):
        before = load_image(os.path.join(completion_dir, "damaged", name))
        after = load_image(os.path.join(completion_dir, "restored", name))
        gap = np.full((before.shape[0], 8, 3), 255, np.uint8)
        save_image(os.path.join(args.out_dir, "before_after", name),
                   np.concatenate([before, gap, after], axis=1))
    log.info("before/after pictures in %s, the completion GIF in %s",
             os.path.join(args.out_dir, "before_after"),
             os.path.join(completion_dir, "batch000", "completion.gif"))
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
