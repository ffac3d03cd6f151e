"""dcgan-demo: complete two real faces with the bundled model, no data of yours needed.

    dcgan-demo --outDir demo

Takes two photographs that ship inside installed packages (scikit-image's astronaut,
Eileen Collins, and matplotlib's Grace Hopper), aligns each face, hides its centre,
completes it with the bundled face model (averaged with the bundled completion network's
fill, with the model's detail: dcgan-complete's default) and pastes it back into the
photo. As
dcgan-complete --photo does, each face is completed by the bundled model its size picks
(--modelSize auto: the smallest at least as large as the face is in the photo, else the
largest; with only the 64-px model installed, that one), the choice logged per model
size and, with models of several sizes to choose from, recorded in completion/inputs.csv
(model_size). Writes:
  demo/photos/                    the two photographs
  demo/before_after/<name>.png    the damaged photo beside the restored one
  demo/completion/                what ./complete.py --photo writes: restored/, damaged/,
                                  the aligned faces, grids, completion.gif, losses.csv,
                                  inputs.csv
About 10-15 seconds on a 2-core CPU.
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
from .completion_flags import (add_model_size_flag, guided_settings, network_guide,
                               wanted_model_size)

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
    add_model_size_flag(p, recorded="in completion/inputs.csv (model_size) when there is a "
                        "choice", aligned="",
                        photo="")
    p.add_argument("--withNetwork", "--with-network", dest="with_network",
                   action=argparse.BooleanOptionalAction, default=None,
                   help="average each fill with the bundled completion network's and add the "
                   "face model's detail, as dcgan-complete does (default: on with the bundled "
                   "models, off with --checkpointDir)")
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
        status = restore_demo_photos(args.out_dir, args.checkpoint_dir, args.n_iter,
                                     wanted_model_size(args), args.with_network)
    except (CheckpointError, ConfigError, AlignError, ValueError) as e:   # files.OutputError too
        log.error("%s", error_message(e, {"source": "--checkpointDir DIR",
                                          "model_size": "--modelSize"}))
        status = EXIT_FAILED
    except KeyboardInterrupt:
        log.warning("interrupted; the pictures completed so far are in %s", args.out_dir)
        return EXIT_INTERRUPTED
    if status == EXIT_FAILED:               # nothing done: take back the photos copied
        shutil.rmtree(os.path.join(args.out_dir, "photos"), ignore_errors=True)
        files.remove_empty(new)
    return status


def restore_demo_photos(out_dir: str, checkpoint_dir: str | None, n_iter: int | None,
                        model_size: int | None = None, with_network: bool | None = None) -> int:
    """Complete the centre of the demo photos' faces with the library, as ./complete.py
    --photo does, and write the before/after pictures; returns the exit status.
    ``checkpoint_dir``: the model for every face (None: the bundled ones, each face
    completed by the one its size picks: model_sizes); ``model_size``: the side of the
    bundled model for every face (None: auto); ``with_network``: as dcgan-complete's
    --withNetwork (None: its default); model_sizes.ModelSizeError when none of that side
    is installed, or the model in ``checkpoint_dir`` has another side."""
    from .. import align, completion, files, inputs, masks, model_sizes, outputs
    from ..checkpoints import load_model, start_encoder
    from ..config import AUTO_PRECISION, BATCH_SIZE
    from ..images import load_image, save_image

    def load(source, images):                                  # source None: the bundled model
        config, G, D = load_model(source)
        encoder, _ = start_encoder(source, config, None)       # the model's, if it has one
        guide = network_guide(with_network, bool(checkpoint_dir), config.image_size,
                              AUTO_PRECISION, BATCH_SIZE, images=2)
        return config.image_size, (G, D, encoder, guide)
    if checkpoint_dir:
        models = model_sizes.SizedModels.one(checkpoint_dir, load)
        model_sizes.check_size(models.sizes[0], model_size, checkpoint_dir)
    else:
        models = model_sizes.SizedModels.of(model_sizes.bundled_sources(size=model_size), load)
    completion_dir = os.path.join(out_dir, "completion")
    files.ensure_output_dir(out_dir, must_be_empty=True, what="output folder")
    spec_of = model_sizes.spec_maker(lambda size: masks.MaskSpec(size=size))   # a centre hole
    items, failed = model_sizes.find_sized_faces(demo_photos(os.path.join(out_dir, "photos")),
                                                 models.sizes, spec_of, align.FaceAligner())
    for reason in failed.values():
        log.error("skipping %s", reason)
    if not items:
        return EXIT_FAILED
    groups = model_sizes.by_size(items)
    model_sizes.log_choice(groups, photo=True)
    models.load_for(groups)                                    # the sides the faces need
    files.ensure_output_dir(completion_dir, must_be_empty=True, what="output folder")
    order = [item for group in groups.values() for item in group]
    paths = [item.path for item in order]
    names = inputs.unique_names(paths)
    # inputs.csv's model_size: where there was a choice (one model: empty, as before).
    chosen = [item.size for item in order] if len(models.sizes) > 1 else None
    record = outputs.RunRecord(completion_dir, paths, names, failed, with_losses=True,
                               model_sizes=chosen)
    done = batches = 0
    for size, group in groups.items():                         # the smaller side first
        G, D, encoder, guide = models[size]
        settings = completion.default_settings(completion.start_of(encoder))
        settings["n_iter"] = n_iter or settings["n_iter"]
        settings = guided_settings(None, settings, guide is not None)
        outputs.run_projection(record, names[done:done + len(group)],
                               np.stack([item.pixels for item in group]),
                               spec_of(size)[0].stack([item.mask for item in group]), G, D,
                               settings, BATCH_SIZE, faces=[item.face for item in group],
                               encoder=encoder, first_index=done, first_batch=batches,
                               guide=guide)
        done, batches = done + len(group), batches - (-len(group) // BATCH_SIZE)
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
