"""dcgan-plot-losses: draw a training run's loss curves from its TensorBoard logs.

    dcgan-plot-losses logs losses.png [--smooth 50]

Reads the scalars that dcgan-train and dcgan-train-completion log and writes one PNG with
a panel per group found: the losses (d_loss, g_loss), the scores (d_real, d_fake), and
for a completion network the reconstruction term and gradient penalty (rec, gp). A moving
average over --smooth logged points is drawn over the raw values. The format follows the
file name's extension (.png, .pdf, .svg...; PNG without one); an existing file is never
overwritten. An event file cut short (a run that was killed) is read up to the cut.

Exit status: 0 written, 2 nothing written (no such log folder, no training scalars in it,
an output that exists or cannot be written), 130 interrupted.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

import numpy as np

from .common import (EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, HelpFormatter, add_verbose_flag,
                     positive_int, setup_logging)

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
            path = os.path.join(root, name)
            try:
                for event in tf.compat.v1.train.summary_iterator(path):
                    for value in event.summary.value:
                        if value.HasField("tensor"):
                            if value.tensor.tensor_shape.dim:
                                continue                           # images, not scalars
                            number = float(tf.make_ndarray(value.tensor))
                        else:
                            number = value.simple_value
                        series.setdefault(value.tag, {})[event.step] = number
            except tf.errors.OpError as e:
                # A run killed while writing leaves a cut-off last record: the events
                # before it are sound and kept.
                log.warning("%s: read up to a damaged or cut-off record (%s); the rest is "
                            "ignored", path, e.message)
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
    p.add_argument("out", help="the picture to write, a new file (PNG unless its extension "
                   "names another format)")
    p.add_argument("--smooth", type=positive_int, default=50,
                   help="moving-average window, in logged points (default: 50)")
    add_verbose_flag(p)
    args = p.parse_args(argv)
    setup_logging(args.verbose)
    from ..files import OutputError, atomic_path, check_new_file
    try:
        if not os.path.isdir(args.log_dir):
            raise ValueError(f"log folder {args.log_dir!r} " + ("is a file, not a folder"
                             if os.path.exists(args.log_dir) else "does not exist"))
        fmt = picture_format(args.out)
        check_new_file(args.out, what="plot")
    except (OutputError, ValueError) as e:
        log.error("%s", e)
        return EXIT_FAILED
    try:
        scalars = read_scalars(args.log_dir)
        panels = [(tags, title) for tags, title in PANELS if any(t in scalars for t in tags)]
        if not panels:
            log.error("no training scalars (%s) found under %s",
                      ", ".join(t for tags, _ in PANELS for t in tags), args.log_dir)
            return EXIT_FAILED
        fig = draw(scalars, panels, args.smooth)
        with atomic_path(args.out) as tmp:     # format given: tmp's name ends in .partial
            fig.savefig(tmp, dpi=100, format=fmt)
        import matplotlib.pyplot as plt
        plt.close(fig)
    except KeyboardInterrupt:
        log.warning("interrupted: %s was not written", args.out)
        return EXIT_INTERRUPTED
    except OSError as e:                      # e.g. a full disk; nothing is left behind
        log.error("cannot write %s: %s", args.out, e)
        return EXIT_FAILED
    log.info("wrote %s", args.out)
    return EXIT_OK


def picture_format(path: str) -> str:
    """matplotlib's format for ``path``'s extension (png without one); ValueError for an
    extension matplotlib cannot write."""
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib.backend_bases import FigureCanvasBase
    ext = os.path.splitext(path)[1].lower().lstrip(".")
    supported = FigureCanvasBase.get_supported_filetypes()
    if ext and ext not in supported:
        raise ValueError(f"{path}: cannot draw a .{ext} file; use one of "
                         f"{', '.join('.' + e for e in sorted(supported))}")
    return ext or "png"


def draw(scalars: dict, panels: list, window: int):
    """A figure with one panel per (tags, title) of ``panels``: raw and smoothed curves."""
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
            ax.plot(steps[len(steps) - len(smooth(values, window)):],
                    smooth(values, window), color=line.get_color(), label=tag)
        ax.set_xlabel("step")
        ax.set_title(title)
        ax.legend()
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


if __name__ == "__main__":
    sys.exit(main())
