"""scripts/simple-distributions.py / dcgan-distributions: the introductory probability figures.

    scripts/simple-distributions.py figures/

The three pictures that open the image-completion write-up, drawn with today's
matplotlib and scipy (matplotlib no longer has mlab.bivariate_normal):
  normal-pdf.png        the standard normal density over [-3, 3)
  normal-samples.png    35 samples from N(0, 1) on a line
  normal-2d.png         contours of the 2-D standard normal with 200 samples
Existing files of these names are never overwritten; each is written under a temporary
name and renamed once complete.

Exit status: 0 written, 2 nothing written (OUT_DIR is a file or cannot be written, or
holds one of these files already), 130 interrupted.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

import numpy as np

from .common import (EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, HelpFormatter, add_verbose_flag,
                     seed, setup_logging)

log = logging.getLogger("simple-distributions")
FILES = ("normal-pdf.png", "normal-samples.png", "normal-2d.png")


def _save_png(fig, path: str) -> None:
    from ..files import atomic_path
    with atomic_path(path) as tmp:          # a stopped run leaves no cut-off PNG
        fig.savefig(tmp, bbox_inches="tight", format="png")


def draw(out_dir: str, seed: int = 0) -> list[str]:
    """Write the three figures into ``out_dir``; returns their paths."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from scipy import stats
    rng = np.random.default_rng(seed)
    os.makedirs(out_dir, exist_ok=True)
    paths = [os.path.join(out_dir, name) for name in FILES]

    x = np.arange(-3.0, 3.0, 0.01)
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(x, stats.norm.pdf(x))
    ax.set(xlim=(-3, 3), ylim=(0, None), xlabel="x", ylabel="p(x)", title="N(0, 1)")
    _save_png(fig, paths[0])

    fig, ax = plt.subplots(figsize=(6, 1.5))
    ax.scatter(rng.standard_normal(35), np.zeros(35), s=40, alpha=0.6)
    ax.set(xlim=(-3, 3), yticks=[], title="35 samples from N(0, 1)")
    _save_png(fig, paths[1])

    g = np.arange(-3.0, 3.0, 0.05)
    X, Y = np.meshgrid(g, g)
    Z = stats.multivariate_normal(mean=[0, 0]).pdf(np.dstack([X, Y]))
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.contour(X, Y, Z)
    samples = rng.standard_normal((200, 2))
    ax.scatter(samples[:, 0], samples[:, 1], s=10, alpha=0.6)
    ax.set(xlim=(-3, 3), ylim=(-3, 3), aspect="equal", title="2-D standard normal, 200 samples")
    _save_png(fig, paths[2])
    plt.close("all")
    return paths


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="simple-distributions", description=__doc__,
                                formatter_class=HelpFormatter)
    p.add_argument("out_dir", metavar="OUT_DIR", help="folder for the PNG files")
    p.add_argument("--seed", type=seed, default=0, help="seed of the samples (default: 0)")
    add_verbose_flag(p)
    args = p.parse_args(argv)
    setup_logging(args.verbose)
    from ..files import OutputError, ensure_output_dir
    try:
        ensure_output_dir(args.out_dir)
        there = [name for name in FILES if os.path.lexists(os.path.join(args.out_dir, name))]
        if there:
            raise OutputError(f"{args.out_dir} already holds {', '.join(there)}; choose another "
                              "folder (nothing is overwritten)")
        paths = draw(args.out_dir, args.seed)
    except OutputError as e:
        log.error("%s", e)
        return EXIT_FAILED
    except KeyboardInterrupt:
        log.warning("interrupted: the figures finished are in %s", args.out_dir)
        return EXIT_INTERRUPTED
    except OSError as e:                       # e.g. a full disk: no figure is left half-written
        log.error("cannot write the figures into %s: %s", args.out_dir, e)
        return EXIT_FAILED
    for path in paths:
        log.info("wrote %s", path)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
