"""dcgan-evaluate: measure completion against the ground truth, beside OpenCV's inpainting.

    dcgan-evaluate data/test/aligned --masks center left --limit 200 --outDir evaluation

Every image of the folder (complete faces, nothing missing) is hidden with each mask
(random masks are seeded, so runs compare), completed by each method, and compared with
the original: hole PSNR, whole-image PSNR, SSIM, hole L1 (on the [0, 1] scale) and
seconds per image (see dcgan_completion/evaluate.py for the definitions).

Methods: dcgan (projected gradient descent on z with the model and the completion
flags below), network (one pass of a completion network: --networkDir, or the bundled
one), telea and navier-stokes (cv2.inpaint, radius 3). The patch mask is the network's
training hole.

Outputs (--outDir must be new or empty):
  results.json      settings, per-mask per-method means, and every image's metrics
  table.txt         the table printed on the terminal
  grid_<mask>.png   up to --gridRows images: original | masked | one column per method
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys

import numpy as np

from .common import HelpFormatter, add_verbose_flag, setup_logging
from .complete import _flag, add_completion_flags, check_out_dir, completion_settings

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
    _flag(g, "checkpointDir", "checkpoint-dir", dest="checkpoint_dir", metavar="PATH",
          help="checkpoint folder or weights file (default: the bundled face model)")
    g.add_argument("--limit", type=int, help="evaluate the first N images only (default: all)")
    g.add_argument("--precision", choices=("float32", "mixed_bfloat16", "mixed_float16"),
                   default="float32", help="compute precision of the model (default: float32)")
    g = p.add_argument_group("what to compare")
    g.add_argument("--masks", nargs="+", choices=[m for m in MASK_TYPES if m != "file"],
                   default=list(DEFAULT_MASKS), help=f"mask types (default: {' '.join(DEFAULT_MASKS)})")
    g.add_argument("--methods", nargs="+", choices=METHODS, default=None,
                   help=f"methods (default: {' '.join(DEFAULT_METHODS)}, and network when "
                   "--networkDir is given, or the bundled network when no --checkpointDir is)")
    _flag(g, "networkDir", "network-dir", dest="network_dir", metavar="PATH",
          help="a completion network (dcgan-train-completion folder or weights file) for the "
          "network method (default: the bundled face network)")
    g.add_argument("--fraction", type=float, help="random masks: fraction missing (default: 0.8)")
    _flag(g, "centerScale", "center-scale", dest="center_scale", type=float,
          help="center masks: hide [S*scale, S*(1-scale)) (default: 0.25)")
    add_completion_flags(p)
    g = p.add_argument_group("outputs")
    _flag(g, "outDir", "out-dir", dest="out_dir", help=f"new or empty folder (default: {DEFAULT_OUT_DIR})")
    _flag(g, "gridRows", "grid-rows", dest="grid_rows", type=int, default=GRID_ROWS,
          help=f"images shown in each picture grid (default: {GRID_ROWS})")
    _flag(g, "noProgress", "no-progress", dest="no_progress", action="store_true",
          help="no progress bar")
    add_verbose_flag(p)
    return p


def load_faces(folder: str, size: int, channels: int, limit: int | None):
    """(paths, uint8 (N, S, S, C)) of the readable images in ``folder``; others are reported."""
    from ..images import ImageReadError, list_images, load_image
    paths, pixels = [], []
    for path in list_images(folder)[:limit] if limit else list_images(folder):
        try:
            pixels.append(load_image(path, size=size, channels=channels))
            paths.append(path)
        except ImageReadError as e:
            log.error("skipping %s", e)
    return paths, np.stack(pixels) if pixels else None


def comparison_grid(original, known, completions: dict, rows: int) -> np.ndarray:
    """Rows of [original | masked | method...] for the first ``rows`` images."""
    from ..images import make_grid
    columns = [original[:rows], known[:rows]] + [c[:rows] for c in completions.values()]
    tiles = np.stack(columns, axis=1).reshape((-1,) + original.shape[1:])   # row-major
    return make_grid(tiles, columns=len(columns))


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args.verbose)
    from tqdm import tqdm

    from .. import checkpoints, evaluate, masks
    from ..completion import complete, visible_input
    from ..config import ConfigError
    from ..images import save_image

    out_dir = args.out_dir or DEFAULT_OUT_DIR
    from ..train_completion import bundled_network_available
    # The bundled network joins by default only beside the bundled DCGAN (same image size).
    with_network = args.network_dir or (bundled_network_available() and not args.checkpoint_dir)
    chosen = args.methods or list(DEFAULT_METHODS) + (["network"] if with_network else [])
    try:
        settings = completion_settings(args)
        check_out_dir(out_dir)
        # OpenCV alone still takes its image size from the model (--checkpointDir or bundled).
        config, G, D = checkpoints.load_model(args.checkpoint_dir, args.precision) \
            if "dcgan" in chosen or "network" not in chosen else (None, None, None)
        net = None
        if "network" in chosen:
            from ..train_completion import complete_with_network, load_completion_net
            net_config, net = load_completion_net(args.network_dir)   # None: the bundled one
            if config is not None and net_config.image_size != config.image_size:
                raise ValueError(f"the DCGAN makes {config.image_size}x{config.image_size} images, "
                                 f"the network {net_config.image_size}x{net_config.image_size}")
            config = config or net_config
    except (ValueError, FileExistsError, checkpoints.CheckpointError, ConfigError) as e:
        log.error("%s", e)
        return 2
    if not os.path.isdir(args.data):
        log.error("%s is not a folder", args.data)
        return 2
    paths, faces = load_faces(args.data, config.image_size, config.channels, args.limit)
    if faces is None:
        log.error("no readable image in %s", args.data)
        return 2
    batch_size = args.batch_size or 64
    mask_options = {k: v for k, v in (("scale", args.center_scale), ("fraction", args.fraction))
                    if v is not None}

    results, per_image = {}, {}
    os.makedirs(out_dir, exist_ok=True)
    bar = tqdm(total=len(args.masks) * len(chosen), unit="run", disable=args.no_progress)
    for kind in args.masks:
        mask_set = masks.make_masks(kind, len(faces), config.image_size, seed=settings["seed"],
                                    **mask_options)
        methods = {}
        for name in chosen:
            if name in evaluate.BASELINES:
                methods[name] = evaluate.BASELINES[name]
            elif name == "dcgan":
                methods[name] = lambda x, m, f=mask_set.lowres_factor: complete(
                    x, m, G, D, lowres_factor=f, **settings).completed
            elif kind != "lowres":          # a network fills holes; lowres has no known pixel
                methods[name] = lambda x, m: complete_with_network(x, m, net)
        results[kind], per_image[kind], completions = {}, {}, {}
        for name, method in methods.items():
            bar.set_postfix(mask=kind, method=name)
            run = evaluate.run_method(method, faces, mask_set.values, batch_size)
            results[kind][name], per_image[kind][name] = run.summary(), run.metrics
            completions[name] = run.completed
            bar.update(1)
        known = visible_input(faces, mask_set.values, mask_set.lowres_factor)
        save_image(os.path.join(out_dir, f"grid_{kind}.png"),
                   comparison_grid(faces, known, completions, args.grid_rows))
    bar.close()

    table = evaluate.format_table(results)
    print(table)
    with open(os.path.join(out_dir, "table.txt"), "w") as f:
        f.write(table + "\n")
    with open(os.path.join(out_dir, "results.json"), "w") as f:
        json.dump({"data": args.data, "images": [os.path.relpath(p, args.data) for p in paths],
                   "model": args.checkpoint_dir or "bundled", "settings": settings,
                   "summary": results, "per_image": per_image}, f, indent=1)
    log.info("results in %s", out_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
