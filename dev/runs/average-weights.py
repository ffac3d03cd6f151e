#!/usr/bin/env python3
"""Average weights files of one model (checkpoint averaging) into a new weights file.

    python dev/runs/average-weights.py OUT.npz IN1.npz IN2.npz ...

The inputs are weights files of the same model (`dcgan-export --weights` of several
checkpoints of one run, or of runs that continue one another): the same config and the
same arrays. OUT holds each array's mean (computed in float64, stored in the inputs'
dtype, batch-norm statistics averaged like the rest) and the inputs' config; it is
written atomically and never over one of the inputs.

Why: a completion network trained against a critic moves about from checkpoint to
checkpoint (issue 24's 128-px network: 20.08-20.49 dB mean hole PSNR on the select
faces between checkpoints 250 steps apart), and the mean of the weights along the run
sits nearer the middle of that wandering than any one checkpoint (Izmailov et al. 2018,
"Averaging Weights Leads to Wider Optima and Better Generalization"; Polyak averaging).
dev/runs/README.md says which files made the shipped network.
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import numpy as np  # noqa: E402

from dcgan_completion.checkpoints import (CheckpointError, read_weights_file,  # noqa: E402
                                          write_weights_file)


def average(paths: list[str]) -> tuple[dict, dict]:
    """(arrays, meta): the mean of the weights files ``paths``; CheckpointError when they
    are not the same model."""
    first, meta = read_weights_file(paths[0])
    sums = {name: array.astype(np.float64) for name, array in first.items()}
    for path in paths[1:]:
        arrays, other = read_weights_file(path)
        if other != meta:
            raise CheckpointError(f"{path} has another config than {paths[0]}")
        if set(arrays) != set(sums) or any(arrays[n].shape != sums[n].shape for n in sums):
            raise CheckpointError(f"{path} does not hold the arrays of {paths[0]}")
        for name in sums:
            sums[name] += arrays[name]
    return {name: (total / len(paths)).astype(first[name].dtype)
            for name, total in sums.items()}, meta


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out", help="the averaged weights file to write (.npz)")
    p.add_argument("inputs", nargs="+", help="weights files of the same model")
    args = p.parse_args(argv)
    real = {os.path.realpath(path) for path in args.inputs}
    if os.path.realpath(args.out) in real:
        print(f"error: {args.out} is one of the inputs; write the average elsewhere",
              file=sys.stderr)
        return 2
    try:
        arrays, meta = average(args.inputs)
    except (CheckpointError, OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    write_weights_file(args.out, arrays, meta)
    print(f"{args.out}: the mean of {len(args.inputs)} weights files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
