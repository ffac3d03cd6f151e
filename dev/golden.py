#!/usr/bin/env python3
"""Golden outputs: record what the commands produce now, and compare after a refactor.

    python dev/golden.py record /tmp/golden-before      # before moving anything
    ... refactor ...
    python dev/golden.py record /tmp/golden-after
    python dev/golden.py compare /tmp/golden-before /tmp/golden-after

Only the command lines are used (the one interface a refactor must keep), with fixed
seeds, on inputs made from the photos that ship inside installed packages:
  demo/        dcgan-demo --nIter 50: the packaged photos aligned, completed, pasted back
  faces/       16 aligned faces made from them (flips and shifts)
  complete/    dcgan-complete on faces/ (centre masks, batches of 6), --nIter 50
  random/      the same with random masks
  network/     dcgan-complete --method network on faces/
  evaluate/    dcgan-evaluate faces/ --limit 16 --nIter 50 (per-image metrics)
  train/       dcgan-train on a toy set: sample grids every 2 steps, TensorBoard scalars
  train-net/   dcgan-train-completion on the same toy set, likewise
``compare`` wants every picture identical to the pixel and every number (CSV, JSON,
TensorBoard scalars; timings excepted) equal within a relative 1e-5; it prints each difference and exits 1
if there is any. Record both sides on the same machine: CPUs differ in the last bits.
"""

from __future__ import annotations

import csv
import json
import math
import os
import subprocess
import sys

import numpy as np
from PIL import Image

TOLERANCE = 1e-5
TIMINGS = ("seconds_per_image", "images_per_second")    # measured, not computed: not compared
STEPS = ["--no_progress", "--sample_every", "2", "--epoch", "3", "--batch_size", "8"]


def run(*command: str) -> None:
    print("$", " ".join(command), flush=True)
    subprocess.run([sys.executable, "-m", *command], check=True)


def make_faces(demo: str, out: str) -> None:
    """16 aligned faces from the demo's two: each face, flipped, shifted by 1-3 pixels."""
    os.makedirs(out)
    inputs = sorted(os.listdir(os.path.join(demo, "completion", "input")))
    k = 0
    for name in inputs:
        face = np.asarray(Image.open(os.path.join(demo, "completion", "input", name)).convert("RGB"))
        for flip in (False, True):
            base = face[:, ::-1] if flip else face
            for shift in range(4):
                Image.fromarray(np.roll(base, shift, axis=1)).save(os.path.join(out, f"face{k:02d}.png"))
                k += 1


def make_toy_set(out: str, count: int = 32, size: int = 16) -> None:
    os.makedirs(out)
    rng = np.random.default_rng(2016)
    for i in range(count):
        x = np.full((size, size, 3), rng.integers(0, 120, 3), np.uint8)
        top, left = rng.integers(1, size // 3, 2)
        x[top:top + size // 2, left:left + size // 2] = rng.integers(160, 255, 3)
        Image.fromarray(x).save(os.path.join(out, f"toy{i:02d}.png"))


def record(out: str) -> None:
    if os.path.exists(out):
        sys.exit(f"{out} exists; give a new folder")
    os.makedirs(out)
    cli = "dcgan_completion.cli."
    run(cli + "demo", "--outDir", f"{out}/demo", "--nIter", "50")
    make_faces(f"{out}/demo", f"{out}/faces")
    common = ["--nIter", "50", "--seed", "0", "--batchSize", "6", "--noProgress"]
    run(cli + "complete", f"{out}/faces", "--outDir", f"{out}/complete", *common)
    run(cli + "complete", f"{out}/faces", "--outDir", f"{out}/random", "--maskType", "random", *common)
    run(cli + "complete", f"{out}/faces", "--outDir", f"{out}/network", "--method", "network",
        "--noProgress")
    run(cli + "evaluate", f"{out}/faces", "--limit", "16", "--nIter", "50", "--outDir",
        f"{out}/evaluate", "--noProgress")
    make_toy_set(f"{out}/toy")
    for name, module, extra in (
            ("train", "train", ["--gf_dim", "8", "--df_dim", "8", "--z_dim", "8"]),
            ("train-net", "train_completion", ["--width", "4", "--critic_width", "4", "--d_steps", "1"])):
        run(cli + module, "--dataset", f"{out}/toy", "--image_size", "16", *extra, *STEPS,
            "--checkpoint_dir", f"{out}/{name}/ckpt", "--sample_dir", f"{out}/{name}/samples",
            "--log_dir", f"{out}/{name}/logs")


# --- comparing ------------------------------------------------------------------------------

def scalars(path: str) -> dict:
    from dcgan_completion.runtime import start_tensorflow
    tf = start_tensorflow()
    found = {}
    for event in tf.compat.v1.train.summary_iterator(path):
        for value in event.summary.value:
            if value.metadata.plugin_data.plugin_name == "scalars" and value.tag not in TIMINGS:
                found[(value.tag, event.step)] = float(tf.make_ndarray(value.tensor))
    return found


def close(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return math.isclose(float(a), float(b), rel_tol=TOLERANCE, abs_tol=TOLERANCE)
    return a == b


def as_number(text: str):
    try:
        return float(text)
    except ValueError:
        return text


def differences(a, b, where: str, root_a: str, root_b: str):
    """Yield the places where the JSON-like values a and b differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            if key in TIMINGS:
                continue
            if key not in a or key not in b:
                yield f"{where}/{key}: only in one"
            else:
                yield from differences(a[key], b[key], f"{where}/{key}", root_a, root_b)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            yield from differences(x, y, f"{where}[{i}]", root_a, root_b)
    elif isinstance(a, str) and isinstance(b, str):
        if a.replace(root_a, "") != b.replace(root_b, ""):
            yield f"{where}: {a!r} != {b!r}"
    elif not (isinstance(a, (int, float)) and isinstance(b, (int, float)) and close(float(a), float(b))):
        if a != b:
            yield f"{where}: {a!r} != {b!r}"


def compare_file(a: str, b: str, root_a: str, root_b: str):
    ext = os.path.splitext(a)[1].lower()
    if ext in (".png", ".jpg", ".gif"):
        with Image.open(a) as x, Image.open(b) as y:
            frames_a = [np.asarray(x.seek(i) or x.convert("RGB")) for i in range(getattr(x, "n_frames", 1))]
            frames_b = [np.asarray(y.seek(i) or y.convert("RGB")) for i in range(getattr(y, "n_frames", 1))]
        if len(frames_a) != len(frames_b) or any(p.shape != q.shape or (p != q).any()
                                                 for p, q in zip(frames_a, frames_b)):
            yield "pixels differ"
    elif ext == ".csv":
        with open(a, newline="") as f, open(b, newline="") as g:
            rows_a = [[as_number(c) for c in row] for row in csv.reader(f)]
            rows_b = [[as_number(c) for c in row] for row in csv.reader(g)]
        yield from differences(rows_a, rows_b, "", root_a, root_b)
    elif ext == ".json":
        with open(a) as f, open(b) as g:
            yield from differences(json.load(f), json.load(g), "", root_a, root_b)
    elif ".tfevents." in os.path.basename(a):
        yield from differences({str(k): v for k, v in scalars(a).items()},
                               {str(k): v for k, v in scalars(b).items()}, "", root_a, root_b)


def files_under(root: str) -> dict:
    """{relative path: path}; TensorBoard files keyed by their folder (names hold times)."""
    found = {}
    for folder, _, names in os.walk(root):
        for name in names:
            rel = os.path.relpath(os.path.join(folder, name), root)
            key = os.path.join(os.path.dirname(rel), "events") if ".tfevents." in name else rel
            if not name.startswith("ckpt-") and name != "checkpoint":
                found[key] = os.path.join(folder, name)
    return found


def compare(a: str, b: str) -> int:
    files_a, files_b = files_under(a), files_under(b)
    problems = [f"{rel}: only in {a if rel in files_a else b}"
                for rel in sorted(set(files_a) ^ set(files_b))]
    for rel in sorted(set(files_a) & set(files_b)):
        problems += [f"{rel}: {d}" for d in compare_file(files_a[rel], files_b[rel], a, b)]
    for line in problems:
        print(line)
    print(f"{len(files_a)} files compared: "
          f"{'identical' if not problems else f'{len(problems)} difference(s)'}")
    return 1 if problems else 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "record":
        record(sys.argv[2])
    elif len(sys.argv) == 4 and sys.argv[1] == "compare":
        sys.exit(compare(sys.argv[2], sys.argv[3]))
    else:
        sys.exit(__doc__)
