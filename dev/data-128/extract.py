"""Copy each source's photos out of its fetched snapshot into DATA/raw/<name>/.

    python dev/data-128/extract.py [name ...]        # default: every source in sources.tsv

Reads the folder named in sources.tsv at the commit named there (never the snapshot's
newest state), keeping the subfolders below it. A snapshot lacks files of 4 MiB and
more: such a photo cannot be had, so it is listed in DATA/raw/<name>/.absent and counted
in the data card, and the rest is extracted (git archive would stop at the first one).

Resumable: a source whose DATA/raw/<name>/.done exists is skipped (.done holds the number
of photos extracted). Stops, naming the source, when its snapshot or commit is missing.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
# Defaults beside the repository (its parent folder), never inside it.
OUTSIDE = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")


def read_sources(path: str) -> list[tuple[str, str, str, str]]:
    """(name, owner/repo, commit, folder) per source line of sources.tsv."""
    with open(path) as f:
        return [tuple(line.rstrip("\n").split("\t")[:4]) for line in f
                if line.strip() and not line.startswith("#")]


def git_dir(mirrors: str, repo: str) -> str:
    base = os.path.join(mirrors, repo.replace("/", "+"), "repo")
    return os.path.join(base, ".git") if os.path.isdir(os.path.join(base, ".git")) else base


def listing(git: str, commit: str, folder: str) -> list[tuple[str, str]]:
    """(blob id, path) of every image file under ``folder`` at ``commit``."""
    out = subprocess.run(["git", "--git-dir", git, "ls-tree", "-r", "-z", commit, "--", folder],
                         check=True, capture_output=True).stdout.decode()
    rows = []
    for entry in filter(None, out.split("\0")):
        meta, path = entry.split("\t", 1)
        kind, blob = meta.split()[1:3]
        if kind == "blob" and path.lower().endswith(IMAGE_SUFFIXES):
            rows.append((blob, path))
    return rows


def extract(git: str, rows: list, folder: str, out: str) -> list[str]:
    """Write the present blobs under ``out`` (paths relative to ``folder``); return the
    paths whose blobs the snapshot lacks."""
    batch = subprocess.Popen(["git", "--git-dir", git, "cat-file", "--batch"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    absent = []
    for blob, path in rows:
        batch.stdin.write(blob.encode() + b"\n")
        batch.stdin.flush()
        header = batch.stdout.readline().decode().split()
        if header[-1] == "missing":
            absent.append(path)
            continue
        data = batch.stdout.read(int(header[2]))
        batch.stdout.read(1)                          # the newline after each object
        dst = os.path.join(out, os.path.relpath(path, folder))
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        with open(dst + ".part", "wb") as f:
            f.write(data)
        os.replace(dst + ".part", dst)
    batch.stdin.close()
    batch.wait()
    return absent


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("names", nargs="*", help="sources to extract (default: all)")
    p.add_argument("--data", default=os.environ.get("DATA", os.path.join(OUTSIDE, "data-128")))
    p.add_argument("--mirrors", default=os.environ.get("MIRRORS", os.path.join(OUTSIDE, ".mirror")))
    p.add_argument("--sources", default=os.path.join(HERE, "sources.tsv"))
    args = p.parse_args(argv)
    for name, repo, commit, folder in read_sources(args.sources):
        if args.names and name not in args.names:
            continue
        out = os.path.join(args.data, "raw", name)
        if os.path.exists(os.path.join(out, ".done")):
            print(f"{name}: already extracted")
            continue
        git = git_dir(args.mirrors, repo)
        check = subprocess.run(["git", "--git-dir", git, "cat-file", "-e", commit + "^{commit}"],
                               capture_output=True)
        if check.returncode != 0:
            print(f"{name}: no snapshot of {repo} at {commit} under {args.mirrors} "
                  f"(fetch github:{repo})", file=sys.stderr)
            return 2
        rows = listing(git, commit, folder)
        if not rows:
            print(f"{name}: no image under {folder!r} in {repo}@{commit}", file=sys.stderr)
            return 2
        os.makedirs(out, exist_ok=True)
        absent = extract(git, rows, folder, out)
        with open(os.path.join(out, ".absent"), "w") as f:
            f.write("".join(path + "\n" for path in absent))
        with open(os.path.join(out, ".done"), "w") as f:
            f.write(f"{len(rows) - len(absent)}\n")
        print(f"{name}: {len(rows) - len(absent)} photos from {repo}@{commit[:10]}:{folder}"
              + (f", {len(absent)} absent from the snapshot (listed in {out}/.absent)" if absent else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
