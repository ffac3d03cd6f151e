"""The fixed validation faces of ../shared/data (faces-64-validation.txt), for benchmarks.

    paths = validation_faces(data_dir, per_source=13, out_dir=tmp)   # 13 x 5 sources

Takes the first ``per_source`` validation faces of each of the five sources (in the
list's order), or with ``split="select"`` the last ones, extracted from faces-64.tar.gz
into ``out_dir`` (nothing else is unpacked; an already extracted folder is reused). The
list holds 200 faces per source: the project reports figures on the first 100 of each
("report") and chooses designs and checkpoints on the last 100 ("select"), so that no
reported figure comes from faces a choice was tuned on. Raises FileNotFoundError naming what is missing:
the data is not part of the repository, and a benchmark that needs it says so and skips.
A benchmark takes its --data, --split and --per_source from add_split_arguments and its
faces, or the reason it skips, from faces_or_skip.
"""

from __future__ import annotations

import argparse
import os
import tarfile
import tempfile

ARCHIVE, LIST = "faces-64.tar.gz", "faces-64-validation.txt"
SPLITS = ("report", "select")
DEFAULT_DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                            os.pardir, "shared", "data")


# Where validation_faces extracts the 64-px faces for the benchmarks (reused between runs).
EXTRACTED = os.path.join(tempfile.gettempdir(), "dcgan-validation")


def add_split_arguments(parser: argparse.ArgumentParser, per_source: int,
                        data: str = DEFAULT_DATA,
                        data_help: str = "folder of faces-64.tar.gz and its list") -> None:
    """The options of a benchmark on validation faces: --data, --split, --per_source."""
    parser.add_argument("--data", default=data, help=data_help)
    parser.add_argument("--split", choices=SPLITS, default="report",
                        help="report: the first faces of each source (figures to quote); "
                        "select: the last ones (for choosing settings and checkpoints)")
    parser.add_argument("--per_source", type=int, default=per_source,
                        help=f"faces of each source (default: {per_source})")


def faces_or_skip(data_dir: str, per_source: int, split: str, size: int = 64
                  ) -> list[str] | None:
    """The chosen validation faces' paths (validation_faces into EXTRACTED, or at ``size``
    128 validation_faces_128), or None after printing why the benchmark skips: the data is
    not part of the repository."""
    try:
        if size == 128:
            return validation_faces_128(data_dir, per_source, split)
        return validation_faces(data_dir, per_source, EXTRACTED, split)
    except FileNotFoundError as e:
        print(f"skipped: {e}")
        return None


def chosen(data_dir: str, per_source: int, split: str = "report", listing: str = LIST
           ) -> list[str]:
    """The archive names of the first (report) or last (select) ``per_source`` validation
    faces of each source in ``listing``, in the list's order."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}, not {split!r}")
    with open(os.path.join(data_dir, listing)) as f:
        names = [line.strip() for line in f if line.strip()]
    if split == "select":
        return chosen_from(names[::-1], per_source)[::-1]
    return chosen_from(names, per_source)


def chosen_from(names: list[str], per_source: int) -> list[str]:
    taken, by_source = [], {}
    for name in names:
        source = name.split("/")[1]
        if by_source.get(source, 0) < per_source:
            by_source[source] = by_source.get(source, 0) + 1
            taken.append(name)
    return taken


def validation_faces(data_dir: str, per_source: int, out_dir: str, split: str = "report"
                     ) -> list[str]:
    """Paths of the chosen validation faces under ``out_dir``, extracted if needed."""
    for name in (ARCHIVE, LIST):
        if not os.path.exists(os.path.join(data_dir, name)):
            raise FileNotFoundError(f"{os.path.join(data_dir, name)} not found: this benchmark "
                                    "needs the project's shared face data")
    wanted = chosen(data_dir, per_source, split)
    missing = {n for n in wanted if not os.path.exists(os.path.join(out_dir, n))}
    if missing:
        with tarfile.open(os.path.join(data_dir, ARCHIVE)) as tar:
            for member in tar:
                if member.name in missing:
                    tar.extract(member, out_dir, filter="data")
    return [os.path.join(out_dir, n) for n in wanted]


# The 128-px set (docs/data-128.md) lives outside the repository and outside shared/, by
# default beside the repository as dev/data-128/ builds it. Its list holds 250 faces per
# source: the first 125 of each are "report", the last 125 "select", as above.
LIST_128 = "faces-128-validation.txt"
DEFAULT_DATA_128 = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                os.pardir, "data-128")


def validation_faces_128(data_dir: str, per_source: int, split: str = "report") -> list[str]:
    """Paths of the chosen 128-px validation faces (per source, as validation_faces)."""
    if not os.path.exists(os.path.join(data_dir, LIST_128)):
        raise FileNotFoundError(f"{os.path.join(data_dir, LIST_128)} not found: this benchmark "
                                "needs the 128-px face set (dev/data-128/build.sh)")
    return [os.path.join(data_dir, n) for n in chosen(data_dir, per_source, split, LIST_128)]
