"""scripts/simple-distributions.py / dcgan-distributions: the introductory probability figures.

    scripts/simple-distributions.py figures/

The three pictures that open the image-completion write-up, drawn with today's
matplotlib and scipy (matplotlib no longer has mlab.bivariate_normal):
  normal-pdf.png        the standard normal density over [-3, 3)
  normal-samples.png    35 samples from N(0, 1) on a line
  normal-2d.png         contours of the 2-D standard normal with 200 samples
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

import numpy as np

from .common import HelpFormatter, add_verbose_flag, setup_logging

log = logging.getLogger("simple-distributions")
FILES = ("normal-pdf.png", "normal-samples.png", "normal-2d.png")


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
    fig.savefig(paths[0], bbox_inches="tight")

    fig, ax = plt.subplots(figsize=(6, 1.5))
    ax.scatter(rng.standard_normal(35), np.zeros(35), s=40, alpha=0.6)
    ax.set(xlim=(-3, 3), yticks=[], title="35 samples from N(0, 1)")
    fig.savefig(paths[1], bbox_inches="tight")

    g = np.arange(-3.0, 3.0, 0.05)
    X, Y = np.meshgrid(g, g)
    Z = stats.multivariate_normal(mean=[0, 0]).pdf(np.dstack([X, Y]))
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.contour(X, Y, Z)
    samples = rng.standard_normal((200, 2))
    ax.scatter(samples[:, 0], samples[:, 1], s=10, alpha=0.6)
    ax.set(xlim=(-3, 3), ylim=(-3, 3), aspect="equal", title="2-D standard normal, 200 samples")
    fig.savefig(paths[2], bbox_inches="tight")
    plt.close("all")
    return paths


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="simple-distributions", description=__doc__,
                                formatter_class=HelpFormatter)
    p.add_argument("out_dir", metavar="OUT_DIR", help="folder for the PNG files")
    p.add_argument("--seed", type=int, default=0, help="seed of the samples (default: 0)")
    add_verbose_flag(p)
    args = p.parse_args(argv)
    setup_logging(args.verbose)
    for path in draw(args.out_dir, args.seed):
        log.info("wrote %s", path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
