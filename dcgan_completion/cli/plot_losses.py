"""dcgan-plot-losses: draw a training run's loss curves from its TensorBoard logs.

    dcgan-plot-losses logs losses.png [--smooth 50]

Reads the scalars that dcgan-train and dcgan-train-completion log and writes one PNG with
a panel per group found: the losses (d_loss, g_loss), the scores (d_real, d_fake), and
for a completion network the reconstruction term and gradient penalty (rec, gp). A moving
average over --smooth logged points is drawn over the raw values.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

import numpy as np

from .common import HelpFormatter, add_verbose_flag, setup_logging

log = logging.getLogger("dcgan-plot-losses")

PANELS = ((("d_loss", "g_loss"), "losses"),
          (("d_real", "d_fake"), "D(x) and D(G(z)) (critic scores for WGAN)"),
          (("rec", "gp"), "reconstruction L1 and gradient penalty"))


def read_scalars(log_dir: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{tag: (steps, values)} of every scalar in the event files under ``log_dir``."""
    import tensorflow as tf
    series: dict[str, dict[int, float]] = {}
    for root, _, files in os.walk(log_dir):
        for name in sorted(files):
            if not name.startswith("events.out.tfevents"):
                continue
            for event in tf.compat.v1.train.summary_iterator(os.path.join(root, name)):
                for value in event.summary.value:
                    if value.HasField("tensor"):
                        if value.tensor.tensor_shape.dim:
                            continue                               # images, not scalars
                        number = float(tf.make_ndarray(value.tensor))
                    else:
                        number = value.simple_value
                    series.setdefault(value.tag, {})[event.step] = number
    return {tag: (np.array(sorted(d)), np.array([d[s] for s in sorted(d)]))
            for tag, d in series.items()}


def smooth(values: np.ndarray, window: int) -> np.ndarray:
    if window <= 1 or len(values) < window:
        return values
    return np.convolve(values, np.ones(window) / window, mode="valid")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="dcgan-plot-losses", description=__doc__,
                                formatter_class=HelpFormatter)
    p.add_argument("log_dir", help="a --log_dir of dcgan-train or dcgan-train-completion")
    p.add_argument("out", help="PNG file to write")
    p.add_argument("--smooth", type=int, default=50, help="moving-average window (default: 50)")
    add_verbose_flag(p)
    args = p.parse_args(argv)
    setup_logging(args.verbose)
    scalars = read_scalars(args.log_dir)
    panels = [(tags, title) for tags, title in PANELS if any(t in scalars for t in tags)]
    if not panels:
        log.error("no training scalars (%s) found under %s",
                  ", ".join(t for tags, _ in PANELS for t in tags), args.log_dir)
        return 2
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 4), squeeze=False)
    for ax, (tags, title) in zip(axes[0], panels):
        for tag in tags:
            if tag not in scalars:
                continue
            steps, values = scalars[tag]
            line, = ax.plot(steps, values, alpha=0.25, linewidth=0.8)
            ax.plot(steps[len(steps) - len(smooth(values, args.smooth)):],
                    smooth(values, args.smooth), color=line.get_color(), label=tag)
        ax.set_xlabel("step")
        ax.set_title(title)
        ax.legend()
        ax.grid(alpha=0.3)
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    fig.savefig(args.out, dpi=100)
    log.info("wrote %s", args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
