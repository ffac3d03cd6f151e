"""The fixed validation faces of ../shared/data (faces-64-validation.txt), for benchmarks.

    paths = validation_faces(data_dir, per_source=13, out_dir=tmp)   # 13 x 5 sources

Takes the first ``per_source`` validation faces of each of the five sources (in the
list's order), extracted from faces-64.tar.gz into ``out_dir`` (nothing else is unpacked;
an already extracted folder is reused). Raises FileNotFoundError naming what is missing:
the data is not part of the repository, and a benchmark that needs it says so and skips.
"""

from __future__ import annotations

import os
import tarfile

ARCHIVE, LIST = "faces-64.tar.gz", "faces-64-validation.txt"
DEFAULT_DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                            os.pardir, "shared", "data")


def chosen(data_dir: str, per_source: int) -> list[str]:
    """The archive names of the first ``per_source`` validation faces of each source."""
    with open(os.path.join(data_dir, LIST)) as f:
        names = [line.strip() for line in f if line.strip()]
    taken, by_source = [], {}
    for name in names:
        source = name.split("/")[1]
        if by_source.get(source, 0) < per_source:
            by_source[source] = by_source.get(source, 0) + 1
            taken.append(name)
    return taken


def validation_faces(data_dir: str, per_source: int, out_dir: str) -> list[str]:
    """Paths of the chosen validation faces under ``out_dir``, extracted if needed."""
    for name in (ARCHIVE, LIST):
        if not os.path.exists(os.path.join(data_dir, name)):
            raise FileNotFoundError(f"{os.path.join(data_dir, name)} not found: this benchmark "
                                    "needs the project's shared face data")
    wanted = chosen(data_dir, per_source)
    missing = {n for n in wanted if not os.path.exists(os.path.join(out_dir, n))}
    if missing:
        with tarfile.open(os.path.join(data_dir, ARCHIVE)) as tar:
            for member in tar:
                if member.name in missing:
                    tar.extract(member, out_dir, filter="data")
    return [os.path.join(out_dir, n) for n in wanted]
