"""dcgan-complete / ./complete.py: fill in the missing part of face images with a trained DCGAN.

    dcgan-complete --checkpointDir checkpoint --maskType center --outDir out photos/*.png

Inputs are image files, folders (searched recursively) and glob patterns. Images of
another size are resized with a warning (refused with --strict); grayscale and RGBA are
converted to the model's channels. An unreadable file is reported by name and skipped;
the others are still completed, and the exit status is 1 at the end.

Output layout (--outDir must be new or empty: nothing already there is overwritten):
  completed/<name>.png   the final completion of each input image
  input/<name>.png       the input as the model sees it (resized, converted)
  masked/<name>.png      what is known: missing pixels gray (lowres: the 8x8 block averages)
  generated/<name>.png   the raw generator output G(z) for the chosen z
  batch<kkk>/input.png, batch<kkk>/masked.png     grids of each batch (k = 000, 001, ...)
  with --samples K > 1, the fills of each image by rank instead of one completion:
    completed/<name>_<k>.png, generated/<name>_<k>.png (and restored/<name>_<k>.png)
                         k = 1 (the lowest loss) to K, or fewer: a fill too close to a
                         better one in the hole is left out
    samples/<name>.png   what is known, then the fills by rank, side by side
    the batch grids and completion.gif show rank 1
  batch<kkk>/completed_<iter>.png   completion grids every --outInterval iterations and at the last
  batch<kkk>/completion.gif         those grids animated (a bar at the bottom shows progress)
  losses.csv   image, batch, iteration, contextual, perceptual, total: each image at each
               logged iteration; with --samples K > 1 each of its fills, with two more
               columns, rank (1 = the lowest loss, as in the file names) and sample (the
               start point: 0 the encoder's z or the first random one)
  inputs.csv   name, input, status, reason, model_size: one row per input, mapping each
               output <name> to its input file; status completed, skipped (with the
               reason), pending (while the run goes on), interrupted, or failed (the outputs
               could not be written, e.g. a full disk); model_size, the image side of the
               model that completes it (--modelSize)
<name> is the input's file stem (photos/face01.jpg -> face01.png), with _2, _3... added
when two inputs share a stem (inputs.csv says which is which).

With bundled models of several sizes (--modelSize auto), each face is completed by the
model its size picks (dcgan_completion/model_sizes.py, the rule dcgan-evaluate --photo,
dcgan-demo and the web page share): the inputs are completed size by size,
the smaller first, so inputs.csv lists them in that order and batch<kkk> numbers go on
from one size to the next.

A batch's files are all written before losses.csv and inputs.csv list it, and the files
of a batch cut short are removed: after an interrupt (Ctrl-C, SIGTERM), every file in
--outDir is complete and listed, and the message says how many images were completed.

Exit status: 0 all completed; 1 some inputs skipped (each named, and listed in
inputs.csv), the rest completed; 2 nothing completed: bad flags, checkpoint or output
folder, or no usable input; 130 interrupted (Ctrl-C or SIGTERM). Outputs that cannot be
written (a full disk) stop the run with 1 if some images were completed, else 2.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys

import numpy as np

from .common import (EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_PARTIAL, HelpFormatter,
                     add_flag, add_verbose_flag, error_message, part_of_n, positive_int,
                     setup_logging, sigterm_as_interrupt)
from .completion_flags import (add_completion_flags, add_mask_parameter_flags,
                               add_model_size_flag, add_photo_flags, add_precision_flag,
                               add_sample_flags, add_start_flags, bundled_candidates,
                               check_model_size, completion_settings, load_dcgan, mask_spec,
                               guided_settings, network_guide, network_precision, photo_texture,
                               projection_steps, wanted_model_size, with_detail)

log = logging.getLogger("dcgan-complete")

DEFAULT_OUT_DIR = "outputImages"
# The flag that fixes a library error, by the setting the error names (cli.common.error_message).
FIXES = {"source": "--checkpointDir DIR", "load_completion_net": "--method network",
         "load_model": "--method dcgan", "predictor_path": "--dlibFacePredictor PATH",
         "encoder": "--encoder PATH, or --init random"}


def build_parser() -> argparse.ArgumentParser:
    from ..completion import default_settings
    from ..masks import DEFAULT_KIND, MASK_TYPES
    S = default_settings()

    p = argparse.ArgumentParser(prog="dcgan-complete", description=__doc__, formatter_class=HelpFormatter)
    g = p.add_argument_group("inputs and model")
    g.add_argument("images", nargs="+", metavar="IMAGE",
                   help="image files, folders (searched recursively) or glob patterns")
    add_flag(g, "checkpointDir", "checkpoint-dir", dest="checkpoint_dir", metavar="DIR",
             help="a checkpoint folder written by dcgan-train, or a weights file (.npz) "
             "(default: the bundled face model, where one is installed)")
    add_flag(g, "imgSize", "img-size", dest="img_size", type=positive_int,
             help="image side; must match the checkpoint (default: the checkpoint's)")
    g.add_argument("--strict", action="store_true", default=None,
                   help="refuse images of another size instead of resizing them with a warning")
    g.add_argument("--method", choices=("dcgan", "network"), default="dcgan",
                   help="dcgan: optimise z of the DCGAN (the default); network: one forward pass "
                   "of a completion network (--checkpointDir: a dcgan-train-completion folder or "
                   "weights file; default: the bundled face network); no per-iteration frames")
    g.add_argument("--photo", action="store_true", default=None,
                   help="inputs are photographs: align each one's face, complete it, and paste it "
                   "back into the full-resolution photo (restored/, damaged/)")
    add_photo_flags(g, mask_default="--maskType in the aligned face")
    add_model_size_flag(g)
    add_precision_flag(g)
    add_start_flags(g)

    g = p.add_argument_group("masks (1 = known, 0 = missing; see dcgan_completion/masks.py)")
    add_flag(g, "maskType", "mask-type", dest="mask_type", choices=MASK_TYPES, metavar="TYPE",
             help=f"which pixels are missing: {', '.join(MASK_TYPES)} "
             f"(default: {DEFAULT_KIND}, or file with --maskFile)")
    add_mask_parameter_flags(g)
    add_flag(g, "maskFile", "mask-file", dest="mask_file", metavar="PATH",
             help="a mask image for all images, or a folder of masks named like the images "
             "(white = known, black = missing)")
    add_flag(g, "invertMask", "invert-mask", dest="invert_mask", action="store_true", default=None,
             help="mask files are white = missing (OpenCV / LaMa convention)")

    add_completion_flags(p)
    add_sample_flags(p)

    g = p.add_argument_group("outputs")
    add_flag(g, "outDir", "out-dir", dest="out_dir",
             help=f"output folder, new or empty (default: {DEFAULT_OUT_DIR})")
    add_flag(g, "outInterval", "out-interval", dest="out_interval", type=positive_int,
             help=f"iterations between logged completions (default: {S['out_interval']})")
    add_flag(g, "noProgress", "no-progress", dest="no_progress", action="store_true", default=None,
             help="no progress bar (for logs)")
    g.add_argument("--shard", type=part_of_n, metavar="K/N",
                   help="complete only part K of N of the inputs (contiguous shares, in input "
                   "order), for N machines sharing a folder; each writes its own --outDir, and "
                   "every image keeps the mask and starting z it has in one run (default: all)")
    add_verbose_flag(p)
    return p


def check_mask_flags(args) -> None:
    """ValueError for mask flags that contradict each other."""
    files = [f for f in ("mask_file", "photo_mask") if getattr(args, f)]
    flag = {"mask_file": "--maskFile", "photo_mask": "--photoMask"}
    if len(files) > 1:
        raise ValueError("--maskFile (aligned faces) and --photoMask (photos) cannot be combined")
    if files and args.mask_type not in (None, "file"):
        raise ValueError(f"{flag[files[0]]} reads masks from files; it cannot be combined with "
                         f"--maskType {args.mask_type}")
    if args.mask_type == "file" and not files:
        raise ValueError("--maskType file needs --maskFile PATH (a mask image or a folder of masks)")
    if args.photo_mask and not args.photo:
        raise ValueError("--photoMask draws masks on photos; it needs --photo")
    photo_texture(args)


def model_candidates(args) -> dict[int, str | None] | None:
    """{image side: model source} of the bundled models this run chooses from
    (model_sizes.bundled_sources of --method and --modelSize; an --imgSize that one of them
    has picks it), or None with --checkpointDir (that model completes every face; its side
    is known once loaded). ValueError for a --modelSize that no installed bundled model has."""
    if args.checkpoint_dir:
        return None
    sources = bundled_candidates(args, network=args.method == "network")
    if wanted_model_size(args) is None and args.img_size in sources:
        sources = {args.img_size: sources[args.img_size]}
    return sources


def load_completer(args, source: str | None = None, images: int | None = None, steps: int = 1,
                   settings: dict | None = None):
    """(image size, channels, the model(s), the encoder or None) of --method and --init for
    the model ``source`` (--checkpointDir, a bundled weights file, or None: the default
    bundled one): the network's completer (with ``settings``' detail, the bundled DCGAN's
    too: with_detail), or G, D, their replicas on every other local GPU and the
    network whose fills the projection's are averaged with (network_guide) or None; raises
    CheckpointError / ConfigError. ``images`` and ``steps`` (a batch's projection steps):
    the job's size, which decides whether --precision auto is worth timing."""
    from ..checkpoints import load_replicas, start_encoder
    from ..config import BATCH_SIZE
    from ..masks import lowres_factor_of
    if args.method == "network":
        from ..completion_net.inference import load_network_completer
        if args.init or args.encoder:
            raise ValueError("--init and --encoder choose where the optimisation of z starts; "
                             "--method network does not optimise z")
        batch_size = args.batch_size or BATCH_SIZE
        config, completer, _ = load_network_completer(   # None: the bundled network
            source, network_precision(args), batch_size, images=images)
        if settings and settings["detail"]:
            completer = with_detail(args, completer, config.image_size, settings, batch_size,
                                    images)
        return config.image_size, config.channels, (completer,), None
    config, G, D, precision = load_dcgan(args, args.batch_size or BATCH_SIZE, images, steps,
                                         source)
    encoder, path = start_encoder(source, config, args.init, args.encoder)
    if path:
        log.info("starting z: the encoder %s", path)
    replicas = load_replicas(source, precision)                           # other GPUs
    if replicas:
        log.info("completing on %d devices at once", 1 + len(replicas))
    # lowres masks leave no hole for a network to fill: the projection alone, by default.
    lowres = lowres_factor_of(args.mask_type)
    asked = False if lowres and not args.with_network else args.with_network
    guide = network_guide(asked, bool(args.checkpoint_dir), config.image_size,
                          network_precision(args), args.batch_size or BATCH_SIZE, images)
    return config.image_size, config.channels, (G, D, replicas, guide), encoder


def load_checked(args, source: str | None, images: int, settings: dict):
    """load_completer's (size, channels, models, encoder) for ``images`` images, refused
    (ValueError) when the model does not fit --modelSize, --imgSize or --photo."""
    loaded = load_completer(args, source, images, projection_steps(args, settings, source),
                            settings)
    size, channels = loaded[:2]
    where = args.checkpoint_dir or "the bundled weights"
    check_model_size(args, size, where)
    if args.img_size is not None and args.img_size != size:
        raise ValueError(f"the model in {where} makes {size}x{size}x{channels} images, but "
                         f"--imgSize {args.img_size} asks for "
                         f"{args.img_size}x{args.img_size}x{channels}")
    if args.photo and channels != 3:
        raise ValueError(f"--photo needs an RGB model; this one has {channels} channel(s)")
    return loaded


def job_size(args) -> int:
    """How many inputs this run (its shard) names: the job's size, before any is read."""
    from .. import inputs
    paths, _ = inputs.expand_inputs(args.images)
    return len(inputs.shard(paths, *args.shard)[0] if args.shard else paths)


def spec_maker(args, seed: int):
    """spec_of(size) -> (masks.MaskSpec, its reader) of the mask flags at that image size,
    made once per size (model_sizes.spec_maker); masks.MaskError for a setting the kind
    cannot use."""
    from .. import model_sizes
    return model_sizes.spec_maker(lambda size: mask_spec(
        args, args.mask_type, size, seed, file=args.photo_mask or args.mask_file,
        invert=args.invert_mask, in_photo=bool(args.photo_mask) or None))


def load_inputs(args, sizes: list[int], spec_of, channels: int):
    """([model_sizes.SizedInput] of the inputs of this shard that can be completed, each
    at the model side of ``sizes`` its face (or image) picks, {item: reason} of the others,
    the run's index of the first)."""
    from .. import align, inputs, model_sizes
    paths, failed = inputs.expand_inputs(args.images)
    paths, first = inputs.shard(paths, *args.shard) if args.shard else (paths, 0)
    if args.photo:
        items, bad = model_sizes.find_sized_faces(
            paths, sizes, spec_of, align.FaceAligner(args.dlib_face_predictor), first)
    else:
        items, bad = model_sizes.sized_images(paths, sizes, spec_of, channels,
                                              strict=bool(args.strict), first_index=first)
    failed.update(bad)
    return items, failed, first


def describe(args, settings: dict, encoder, guide: bool = False) -> str:
    """How the images are completed, in words (``guide``: averaged with a network's fills)."""
    detail_iter = settings["detail_iter"]
    steps = f"{detail_iter} iteration{'' if detail_iter == 1 else 's'}"
    gain = settings["detail_gain"]
    gain = "matched to the photo's" if gain == "match" else f"gain {gain:g}"
    if args.method == "network":
        return "the completion network" + (
            f", with the face model's detail (its image at the encoder's z on the "
            f"prior's sphere, sigma {settings['detail_sigma']} px, {gain})"
            if settings["detail"] else "")
    start = "random starting z" if encoder is None else "the encoder's starting z"
    return f"{settings['optimizer']}, {settings['n_iter']} iterations from {start}" + \
        (" on the prior's sphere" if settings["sphere"] else "") + \
        (f", then {settings['refine']} refining G's block {settings['refine_layer']}"
         if settings["refine"] else "") + \
        (f", then {steps} on the prior's sphere for detail (sigma "
         f"{settings['detail_sigma']} px, {gain})" if settings["detail"] else "") + \
        (", each fill averaged with the completion network's" +
         (" before the detail" if settings["detail"] else "") if guide else "") + \
        (f", {settings['samples']} fills per image" if settings["samples"] > 1 else "")


def complete_group(args, record, names: list[str], group: list, loaded, spec,
                   settings: dict, batch_size: int, *, first: int, first_batch: int,
                   out_dir: str) -> None:
    """Complete the inputs of one model side with that model (``loaded``: load_checked's),
    writing their files and recording them in ``record``; ``first``: the run's index of
    the group's first input, ``first_batch``: the number of its first batch."""
    from .. import outputs
    from ..completion import start_of, with_budget
    _, _, models, encoder = loaded
    settings = with_budget(settings, start_of(encoder))
    pixels = np.stack([item.pixels for item in group])                      # (N, S, S, C)
    mask_set = spec.stack([item.mask for item in group])
    faces = [item.face for item in group] if args.photo else None
    texture = bool(args.photo) and photo_texture(args)
    guide = None if args.method == "network" or mask_set.lowres_factor else models[3]
    settings = guided_settings(args.detail, settings, guide is not None)
    log.info("completing %d image(s) in batches of up to %d: %s masks, %s; outputs in %s%s",
             len(group), batch_size, spec.kind,
             describe(args, settings, encoder, guide is not None), out_dir,
             "; the restored photos take the photo's own texture (--no-texture: off)"
             if texture else "")
    if args.method == "network":
        outputs.run_network(record, names, pixels, mask_set, *models, batch_size, faces=faces,
                            blend=settings["blend"], first_batch=first_batch,
                            texture=texture)
    else:
        G, D, replicas, _ = models
        outputs.run_projection(record, names, pixels, mask_set, G, D, settings, batch_size,
                               quiet=bool(args.no_progress), faces=faces, first_index=first,
                               encoder=encoder, replicas=replicas, first_batch=first_batch,
                               texture=texture, guide=guide)


# --- main --------------------------------------------------------------------------------

def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args.verbose)
    sigterm_as_interrupt()
    out_dir = args.out_dir or DEFAULT_OUT_DIR
    existed = os.path.exists(out_dir)
    try:
        return run(args, out_dir)
    except KeyboardInterrupt:
        log.warning("interrupted before any image was completed")
        return EXIT_INTERRUPTED
    finally:
        if not existed:     # a run that wrote nothing leaves no empty output folder behind
            with contextlib.suppress(OSError):
                os.rmdir(out_dir)


def run(args, out_dir: str) -> int:
    """main() after parsing: the exit status (see the module doc)."""
    from .. import files
    from ..align import AlignError
    from ..checkpoints import CheckpointError
    from ..config import BATCH_SIZE, ConfigError
    from ..completion import PROJECTION_ONLY, projection_only
    from ..completion_net.inference import unsupported_masks
    from ..model_sizes import SizedModels, by_size, log_choice

    batch_size = args.batch_size or BATCH_SIZE
    try:
        settings = completion_settings(args)
        check_mask_flags(args)
        if args.method == "network" and args.with_network:
            raise ValueError("--withNetwork averages the projection's fills with the "
                             "network's; --method network has no projection")
        refused = projection_only(settings) if args.method == "network" else []
        if refused:
            name, value = refused[0], settings[refused[0]]
            given = f"--{name}" if isinstance(value, bool) else f"--{name} {value}"
            raise ValueError(f"{given}: --method network {PROJECTION_ONLY[name]}; use --method "
                             f"dcgan, or leave out --{name}")
        files.ensure_output_dir(out_dir, must_be_empty=True, what="output folder")
        sources = model_candidates(args)

        def load(source, images):
            model = load_checked(args, source, images, settings)
            return model[0], model
        # One model (--checkpointDir, or one candidate): loaded before any input is read.
        models = SizedModels.one(args.checkpoint_dir, load, job_size(args)) if sources is None \
            else SizedModels.of(sources, load, job_size(args))
        spec_of = spec_maker(args, settings["seed"])
        spec = spec_of(models.sizes[0])[0]
        if args.method == "network" and unsupported_masks(spec):
            raise ValueError(f"--method network: {unsupported_masks(spec)}")
        if args.with_network and unsupported_masks(spec):
            raise ValueError(f"--withNetwork: {unsupported_masks(spec)}")
        channels = next(iter(models.loaded.values()))[1] if models.loaded else 3   # bundled: RGB
        items, failed, first = load_inputs(args, models.sizes, spec_of, channels)
        groups = by_size(items)
        models.load_for(groups)                      # only the sides some face needs
    except (ValueError, CheckpointError, ConfigError, FileNotFoundError, AlignError) as e:
        # files.OutputError and masks.MaskError are ValueErrors.
        log.error("%s", error_message(e, FIXES))
        return EXIT_FAILED
    for reason in failed.values():
        log.error("skipping %s", reason)
    if not items:
        log.error("no image to complete")
        return EXIT_FAILED
    if args.photo or len(models.sizes) > 1:
        log_choice(groups, bool(args.photo))

    # Complete side by side and batch by batch, writing each batch's files as soon as it is done.
    from .. import inputs, outputs
    name_of = dict(zip(map(id, items), inputs.unique_names([item.path for item in items])))
    order = [item for group in groups.values() for item in group]
    names = [name_of[id(item)] for item in order]
    try:
        record = outputs.RunRecord(out_dir, [item.path for item in order], names, failed,
                                   with_losses=args.method != "network",
                                   with_ranks=settings["samples"] > 1,
                                   model_sizes=[item.size for item in order])
    except OSError as e:
        log.error("cannot write in %s: %s", out_dir, e)
        return EXIT_FAILED
    try:
        done = batches = 0
        for size, group in groups.items():
            complete_group(args, record, names[done:done + len(group)], group, models[size],
                           spec_of(size)[0], settings, batch_size, first=first + done,
                           first_batch=batches, out_dir=out_dir)
            done, batches = done + len(group), batches - (-len(group) // batch_size)
    except KeyboardInterrupt as e:
        log.warning("interrupted: %s", record.stop(e))
        return EXIT_INTERRUPTED
    except OSError as e:
        log.error("cannot write the outputs (%s): %s", e, record.stop(e))
        return EXIT_PARTIAL if record.done else EXIT_FAILED
    except Exception as e:      # a bug: the record still says what was completed, then the traceback
        with contextlib.suppress(OSError):
            record.write(stopped=("failed", f"stopped by an unexpected error: {type(e).__name__}"))
        raise
    if failed:
        log.error("%d input(s) could not be completed (listed in %s):\n  %s", len(failed),
                  os.path.join(out_dir, "inputs.csv"), "\n  ".join(failed.values()))
    log.info("done: %d completion(s) in %s", len(items), os.path.join(out_dir, "completed"))
    return EXIT_PARTIAL if failed else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
