"""dcgan-evaluate: measure completion against the ground truth, beside OpenCV's inpainting.

    dcgan-evaluate data/test/aligned --masks center left --limit 200 --outDir evaluation

Every image of the folder (complete faces, nothing missing) is hidden with each mask
(random masks are seeded, so runs compare), completed by each method, and compared with
the original: hole PSNR, whole-image PSNR, SSIM, hole L1 (on the [0, 1] scale) and
seconds per image (see dcgan_completion/evaluate.py for the definitions).

Methods: dcgan (projected gradient descent on z with the model and the completion
flags below), network (one pass of a completion network: --networkDir, or the bundled
one), telea and navier-stokes (cv2.inpaint, radius 3). The patch mask is the
block-patch measurement's hole (one 28x28 square at 64x64), one of the holes the
network's default mix measurement trains on.

Outputs (--outDir must be new or empty):
  results.json      settings, per-mask per-method means, every image's metrics, and the
                    skipped (unreadable) files with the reason
  table.txt         the table printed on the terminal
  grid_<mask>.png   up to --gridRows images: original | masked | one column per method

Exit status: 0 every image evaluated, 1 some images could not be read (named, and listed
under "skipped" in results.json), 2 nothing evaluated (bad flags, data folder, model or
output folder), 130 interrupted (the message names the files written so far).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys

import numpy as np

from .. import files
from .common import (EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_PARTIAL, HelpFormatter,
                     add_flag, add_verbose_flag, error_message, nonnegative_int, positive_int,
                     setup_logging, sigterm_as_interrupt)
from .completion_flags import (add_completion_flags, add_mask_parameter_flags,
                               add_precision_flag, add_start_flags, completion_settings,
                               load_dcgan, mask_spec, network_precision)

log = logging.getLogger("dcgan-evaluate")

DEFAULT_MASKS = ("center", "left")
METHODS = ("telea", "navier-stokes", "dcgan", "network")
DEFAULT_METHODS = ("telea", "navier-stokes", "dcgan")
DEFAULT_OUT_DIR = "evaluation"
GRID_ROWS = 8


def build_parser() -> argparse.ArgumentParser:
    from ..masks import MASK_TYPES
    p = argparse.ArgumentParser(prog="dcgan-evaluate", description=__doc__,
                                formatter_class=HelpFormatter)
    g = p.add_argument_group("data and model")
    g.add_argument("data", metavar="DIR", help="folder of complete aligned faces (recursive)")
    add_flag(g, "checkpointDir", "checkpoint-dir", dest="checkpoint_dir", metavar="PATH",
             help="checkpoint folder or weights file (default: the bundled face model)")
    g.add_argument("--limit", type=positive_int,
                   help="evaluate the first N images only, N >= 1 (default: all)")
    add_precision_flag(g)
    add_start_flags(g)
    g = p.add_argument_group("what to compare")
    g.add_argument("--masks", nargs="+", choices=[m for m in MASK_TYPES if m != "file"],
                   default=list(DEFAULT_MASKS), help=f"mask types (default: {' '.join(DEFAULT_MASKS)})")
    g.add_argument("--methods", nargs="+", choices=METHODS, default=None,
                   help=f"methods (default: {' '.join(DEFAULT_METHODS)}, and network when "
                   "--networkDir is given, or the bundled network when no --checkpointDir is)")
    add_flag(g, "networkDir", "network-dir", dest="network_dir", metavar="PATH",
             help="a completion network (dcgan-train-completion folder or weights file) for the "
             "network method (default: the bundled face network)")
    add_mask_parameter_flags(g)
    add_completion_flags(p)
    g = p.add_argument_group("outputs")
    add_flag(g, "outDir", "out-dir", dest="out_dir", help=f"new or empty folder (default: {DEFAULT_OUT_DIR})")
    add_flag(g, "gridRows", "grid-rows", dest="grid_rows", type=nonnegative_int, default=GRID_ROWS,
             help=f"images shown in each picture grid; 0 = no grids (default: {GRID_ROWS})")
    add_flag(g, "noProgress", "no-progress", dest="no_progress", action="store_true",
             help="no progress bar")
    add_verbose_flag(p)
    return p


def load_faces(folder: str, size: int, channels: int, limit: int | None):
    """(paths, uint8 (N, S, S, C) or None, {path: reason}) of the images in ``folder``:
    the readable ones, and the skipped ones (each also reported)."""
    from ..images import ImageReadError, list_images, load_image
    paths, pixels, skipped = [], [], {}
    for path in list_images(folder)[:limit] if limit else list_images(folder):
        try:
            pixels.append(load_image(path, size=size, channels=channels))
            paths.append(path)
        except ImageReadError as e:
            log.error("skipping %s", e)
            skipped[path] = str(e)
    return paths, np.stack(pixels) if pixels else None, skipped


def comparison_grid(original, known, completions: dict, rows: int) -> np.ndarray:
    """Rows of [original | masked | method...] for the first ``rows`` images."""
    from ..images import make_grid
    columns = [original[:rows], known[:rows]] + [c[:rows] for c in completions.values()]
    tiles = np.stack(columns, axis=1).reshape((-1,) + original.shape[1:])   # row-major
    return make_grid(tiles, columns=len(columns))


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args.verbose)
    sigterm_as_interrupt()
    from .. import checkpoints, evaluate
    from ..completion import start_of, with_budget
    from ..config import BATCH_SIZE, ConfigError

    out_dir = args.out_dir or DEFAULT_OUT_DIR
    from ..completion_net.weights import bundled_network_available
    # The bundled network joins by default only beside the bundled DCGAN (same image size).
    with_network = args.network_dir or (bundled_network_available() and not args.checkpoint_dir)
    chosen = args.methods or list(DEFAULT_METHODS) + (["network"] if with_network else [])
    # Everything that can be checked is checked before the (long) run.
    try:
        settings = completion_settings(args)
        if not os.path.isdir(args.data):
            raise ValueError(f"data folder {args.data!r} " + ("is a file, not a folder"
                             if os.path.exists(args.data) else "does not exist"))
        # OpenCV alone still takes its image size from the model (--checkpointDir or bundled).
        encoder = None
        if "dcgan" in chosen:
            config, G, D, _ = load_dcgan(args, args.batch_size or BATCH_SIZE)
            encoder, path = checkpoints.start_encoder(args.checkpoint_dir, config, args.init,
                                                      args.encoder)
            if path:
                log.info("dcgan starts from the encoder %s", path)
            settings = with_budget(settings, start_of(encoder))
        elif "network" not in chosen:
            config, G, D = checkpoints.load_model(args.checkpoint_dir)
        else:
            config, G, D = None, None, None
        completer = None
        if "network" in chosen:
            from ..completion_net.inference import load_network_completer
            # One compiled forward pass for every mask; None: the bundled network.
            net_config, completer, _ = load_network_completer(
                args.network_dir, network_precision(args), args.batch_size or BATCH_SIZE)
            if config is not None and net_config.image_size != config.image_size:
                raise ValueError(f"the DCGAN makes {config.image_size}x{config.image_size} images, "
                                 f"the network {net_config.image_size}x{net_config.image_size}")
            config = config or net_config
        # Mask settings (e.g. lowres and the size) checked now.
        specs = [mask_spec(args, kind, config.image_size, settings["seed"]) for kind in args.masks]
        paths, faces, skipped = load_faces(args.data, config.image_size, config.channels,
                                           args.limit)
        if faces is None:
            raise ValueError(f"no readable image in {args.data}")
        # Made now, and writable: not after the run.
        files.ensure_output_dir(out_dir, must_be_empty=True, what="output folder")
    except (ValueError, OSError, checkpoints.CheckpointError, ConfigError) as e:
        log.error("%s", error_message(e, {"source": "--checkpointDir PATH",
                                          "load_completion_net": "--networkDir",
                                          "load_model": "--checkpointDir",
                                          "encoder": "--encoder PATH, or --init random"}))
        return EXIT_FAILED
    except KeyboardInterrupt:                 # while loading the model(s) or the faces
        log.warning("interrupted before the evaluation started: nothing written")
        return EXIT_INTERRUPTED
    written = []
    try:
        results, per_image = run_evaluation(args, out_dir, chosen, faces, settings, specs,
                                             (G, D, encoder), completer, written)
    except KeyboardInterrupt:
        log.warning("interrupted: %s; no results.json or table.txt was written",
                    f"written so far: {', '.join(written)}" if written else "nothing was written")
        return EXIT_INTERRUPTED

    table = evaluate.format_table(results)
    print(table)
    with files.atomic_write(os.path.join(out_dir, "table.txt")) as f:
        f.write(table + "\n")
    with files.atomic_write(os.path.join(out_dir, "results.json")) as f:
        json.dump({"data": args.data, "images": [os.path.relpath(p, args.data) for p in paths],
                   "skipped": {os.path.relpath(p, args.data): reason
                               for p, reason in skipped.items()},
                   "model": args.checkpoint_dir or "bundled", "settings": settings,
                   "summary": results, "per_image": per_image}, f, indent=1)
    log.info("results in %s", out_dir)
    if skipped:
        log.warning("%d image(s) could not be read and were skipped (listed in %s):\n  %s",
                    len(skipped), os.path.join(out_dir, "results.json"),
                    "\n  ".join(skipped.values()))
        return EXIT_PARTIAL
    return EXIT_OK


def run_evaluation(args, out_dir, chosen, faces, settings, specs, dcgan, completer, written: list):
    """(results[mask][method] = summary, per_image[mask][method] = metrics); writes each
    mask's grid as soon as it is done and appends its name to ``written``. ``dcgan``:
    (G, D, the encoder or None) of the dcgan method."""
    from tqdm import tqdm

    from .. import evaluate
    from ..blend import visible_input
    from ..completion import complete
    from ..completion_net.inference import unsupported_masks
    from ..config import BATCH_SIZE
    from ..encoder import encode
    from ..images import save_image
    G, D, E = dcgan
    batch_size = args.batch_size or BATCH_SIZE
    results, per_image = {}, {}
    os.makedirs(out_dir, exist_ok=True)
    with tqdm(total=len(args.masks) * len(chosen), unit="run", disable=args.no_progress) as bar:
        for spec in specs:
            kind, mask_set = spec.kind, spec.masks(len(faces))
            methods = {}
            for name in chosen:
                if name in evaluate.BASELINES:
                    methods[name] = evaluate.BASELINES[name]
                elif name == "dcgan":
                    methods[name] = lambda x, m, f=mask_set.lowres_factor: complete(
                        x, m, G, D, lowres_factor=f, z_init=encode(E, x, m, f),
                        **settings).completed
                elif not unsupported_masks(spec):   # e.g. lowres: no known pixel to fill around
                    methods[name] = completer.complete
            results[kind], per_image[kind], completions = {}, {}, {}
            for name, method in methods.items():
                bar.set_postfix(mask=kind, method=name)
                run = evaluate.run_method(method, faces, mask_set.values, batch_size)
                results[kind][name], per_image[kind][name] = run.summary(), run.metrics
                completions[name] = run.completed
                bar.update(1)
            if args.grid_rows > 0:
                known = visible_input(faces, mask_set.values, mask_set.lowres_factor)
                grid = os.path.join(out_dir, f"grid_{kind}.png")
                save_image(grid, comparison_grid(faces, known, completions, args.grid_rows))
                written.append(grid)
    return results, per_image


if __name__ == "__main__":
    sys.exit(main())
