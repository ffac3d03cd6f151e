#!/usr/bin/env python3
"""128-px completion against Navier-Stokes and against the 64-px models upscaled (issue 24).

    python bench/bench_128.py [--model RUN_OR_NPZ [--encoder PATH|bundled]]
                              [--network DIR_OR_NPZ] [--per_source 25]
                              [--masks center left strokes] [--methods ...] [--out report-128]

On the 128-px validation faces (bench/validation.py: the first ``per_source`` of each
source of faces-128-validation.txt, the "report" split; ``--split select`` for choices),
each mask is filled by:

  navier-stokes   OpenCV at 128 px
  dcgan-128       the projection's defaults with the 128-px model (with --model; and
                  its encoder, or --encoder's)
  dcgan-128-detail  the same with detail from the prior's sphere (--detail)
  dcgan-128-net   the projection's fills averaged with the 128-px network's (--withNetwork;
                  with --network too)
  dcgan-128-net-detail  the same with detail (--withNetwork --detail)
  network-128     the 128-px completion network (with --network)
  network-128-detail  the same with the 128-px model's detail (--detail; with --model too)
  dcgan-64        the bundled 64-px model and encoder on the face brought to 64 px and
                  pasted back, as dcgan-complete --photo does for a face larger than its
                  model (evaluate.at_model_size)
  network-64      the bundled 64-px network, the same way

and measured as dcgan-evaluate measures (hole PSNR, sharpness in the hole at 1:1, 1:2 and
1:4, dlib identity distance, Frechet distance of the descriptors). Writes report.md,
results.json and a grid per mask to --out; the 128-px data is not part of the repository,
and without it the benchmark says so and skips.

The 64- and 128-px validation splits of UTKFace and AAF were drawn independently, so a
128-px UTKFace or AAF validation face may have trained the 64-px models
(docs/data-128.md): the table is also given on SCUT-FBP5500 and MEBeauty alone.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

from dcgan_completion import completion, evaluate, faceid, images, masks  # noqa: E402
from dcgan_completion.blend import visible_input  # noqa: E402
from dcgan_completion.checkpoints import find_encoder, load_model, start_encoder  # noqa: E402
from dcgan_completion.cli.evaluate import comparison_grid  # noqa: E402
from dcgan_completion.config import DTYPE_POLICIES  # noqa: E402
from dcgan_completion.encoder import encode  # noqa: E402
from validation import DEFAULT_DATA_128, add_split_arguments, faces_or_skip  # noqa: E402

MASKS = ("center", "left", "strokes")
UNSEEN_BY_64 = ("scut-fbp5500", "mebeauty")    # no 128-px validation face trained a 64-px model
GRID_ROWS = 6


def projection(source: str | None, precision: str, encoder: str | None = None, guide=None,
               **changes) -> tuple[int, evaluate.Method, str | None]:
    """(image size, the projection's defaults, with ``changes``, as a Method, the encoder's
    path) of a model; ``encoder``: an encoder's path instead of the model's own (a smaller
    model's is used on the faces averaged down, checkpoints.start_encoder); ``guide``: a
    network's completer whose fills the projection's are averaged with (complete's guide)."""
    config, G, D = load_model(source, precision)
    E, where = start_encoder(source, config, None, encoder)
    settings = {**completion.default_settings(completion.start_of(E)), **changes}

    def method(x, m):
        fills = None if guide is None else guide(x, m)
        return completion.complete(x, m, G, D, z_init=encode(E, x, m), guide=fills,
                                   **settings).completed
    return config.image_size, method, where


def network(source: str | None, precision: str, detail_from: str | None = None,
            encoder: str | None = None) -> tuple[int, evaluate.Method]:
    """(image size, one pass of a completion network as a Method); with ``detail_from`` (a
    DCGAN's source, ``encoder`` its encoder or None for its own), its fills with that
    DCGAN's detail (inference.DetailedCompleter, the library's settings)."""
    from dcgan_completion.completion_net.inference import (DetailedCompleter,
                                                           load_network_completer)
    config, completer, _ = load_network_completer(source, precision)
    if detail_from:
        model, G, D = load_model(detail_from, precision)
        E, _ = start_encoder(detail_from, model, "encoder", encoder)
        completer = DetailedCompleter(completer, G, D, E, completion.default_settings("encoder"))
    return config.image_size, completer.complete


METHODS = ("navier-stokes", "dcgan-128", "dcgan-128-detail", "dcgan-128-net",
           "dcgan-128-net-detail", "network-128", "network-128-detail", "dcgan-64", "network-64")


def methods_of(args) -> dict:
    """{name: Method on 128-px faces} of the methods compared (--methods, of those whose
    model is given: dcgan-128[-detail] needs --model, network-128 --network,
    network-128-detail and dcgan-128-net[-detail] both)."""
    wanted = [m for m in args.methods if (not m.startswith("dcgan-128") or args.model)
              and (not m.startswith("network-128") or args.network)
              and (m != "network-128-detail" or args.model)
              and (not m.startswith("dcgan-128-net") or args.network)]
    chosen = {}
    for name in wanted:
        if name == "navier-stokes":
            chosen[name] = evaluate.BASELINES[name]
        elif name.startswith("dcgan-128"):
            encoder = find_encoder() if args.encoder == "bundled" else args.encoder
            guide = network(args.network, args.precision)[1] if "-net" in name else None
            size, chosen[name], where = projection(args.model, args.precision, encoder, guide,
                                                   detail=name.endswith("-detail"))
            print(f"128-px model {args.model}: {size} px, encoder {where}")
        elif name.startswith("network-128"):
            encoder = find_encoder() if args.encoder == "bundled" else args.encoder
            chosen[name] = network(args.network, args.precision,
                                   args.model if name.endswith("-detail") else None, encoder)[1]
        elif name == "dcgan-64":
            small, dcgan64, _ = projection(None, args.precision)
            chosen[name] = evaluate.at_model_size(dcgan64, small)
        else:
            small, network64 = network(None, args.precision)
            chosen[name] = evaluate.at_model_size(network64, small)
    return chosen


MEASURES = (("hole PSNR", "hole_psnr", ".2f"), ("sharpness 1:1", "sharpness_0", ".2f"),
            ("sharpness 1:2", "sharpness_1", ".2f"), ("identity", "identity", ".3f"),
            ("same person", "identity_same", ".0%"))


def table(results: dict, names: list[str]) -> list[str]:
    """Markdown rows, a mask and a measure each, a column per method."""
    lines = ["| mask | measure | " + " | ".join(names) + " |", "|---|---|" + "---|" * len(names)]
    for kind, by_method in results.items():
        for label, key, spec in MEASURES:
            cells = ["-" if by_method[n].get(key) is None else f"{by_method[n][key]:{spec}}"
                     for n in names]
            lines.append(f"| {kind} | {label} | " + " | ".join(cells) + " |")
    return lines


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=None, help="the 128-px model: run folder or weights file")
    p.add_argument("--encoder", default=None,
                   help="the 128-px model's start point: an encoder's path, or bundled (the "
                   "bundled 64-px one, on the faces averaged down to 64 px; for a model "
                   "grown from it that has no encoder yet); default: the one beside --model, "
                   "else random starts")
    p.add_argument("--network", default=None, help="the 128-px completion network, if any")
    add_split_arguments(p, per_source=25, data=DEFAULT_DATA_128,
                        data_help="the 128-px face set's folder")
    p.add_argument("--masks", nargs="+", choices=masks.MASK_TYPES, default=list(MASKS))
    p.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS),
                   help="methods compared (default: all whose model is given)")
    p.add_argument("--precision", choices=DTYPE_POLICIES, default="mixed_bfloat16")
    p.add_argument("--out", default="report-128", help="output folder (default: report-128)")
    args = p.parse_args(argv)
    paths = faces_or_skip(args.data, args.per_source, args.split, size=128)
    if paths is None:
        return 0
    faces = np.stack([images.load_image(path) for path in paths])          # (N, 128, 128, 3)
    sources = np.array([path.split(os.sep)[-2] for path in paths])
    keep = np.isin(sources, UNSEEN_BY_64)                  # faces no 64-px model trained on
    chosen = methods_of(args)
    reference = faceid.FaceReference.of(faceid.FaceDescriber(), faces)
    os.makedirs(args.out, exist_ok=True)
    results, unseen, per_image = {}, {}, {}
    for kind in args.masks:
        m = masks.MaskSpec(kind, faces.shape[1]).masks(len(faces)).values  # (N, 128, 128, 1)
        results[kind], unseen[kind], per_image[kind], shown = {}, {}, {}, {}
        for name, method in chosen.items():
            t = time.perf_counter()
            run = evaluate.run_method(method, faces, m, faces=reference)
            results[kind][name] = run.summary(reference.descriptors)
            part = evaluate.MethodResult(run.completed[keep], [s for s, k in zip(run.metrics, keep)
                                                               if k], run.seconds)
            unseen[kind][name] = part.summary()
            per_image[kind][name] = run.metrics
            shown[name] = run.completed[:GRID_ROWS]
            print(f"{kind:<8} {name:<14} hole PSNR {results[kind][name]['hole_psnr']:6.2f}  "
                  f"sharp 1:1 {results[kind][name]['sharpness_0']:.2f}  "
                  f"({time.perf_counter() - t:.0f} s)", flush=True)
        images.save_image(os.path.join(args.out, f"grid_{kind}.png"), comparison_grid(
            faces, visible_input(faces[:GRID_ROWS], m[:GRID_ROWS]), shown, GRID_ROWS))
    names = list(chosen)
    report = [f"{len(faces)} 128-px validation faces ({args.split} split, {args.per_source} a "
              f"source), model {args.model}, {args.precision}; hole PSNR in dB", ""]
    report += table(results, names)
    report += ["", f"On {', '.join(UNSEEN_BY_64)} alone ({int(keep.sum())} "
               "faces, none of which trained a 64-px model; no Frechet distance):", ""]
    report += table(unseen, names)
    report += ["", evaluate.format_table(results)]
    text = "\n".join(report)
    with open(os.path.join(args.out, "report.md"), "w") as f:
        f.write(text + "\n")
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump({"model": args.model, "network": args.network, "split": args.split,
                   "precision": args.precision,
                   "faces": [os.path.relpath(path, args.data) for path in paths],
                   "unreadable_faces": [paths[i] for i in reference.unreadable],
                   "results": results, "unseen_by_64": unseen, "per_image": per_image}, f,
                  indent=1)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
