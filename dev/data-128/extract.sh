#!/bin/bash
# Copy each source's photos out of its fetched snapshot, at the commit named in
# sources.tsv, into $DATA/raw/<name>/ (flat: the folder's files, no subfolders).
#
#   dev/data-128/extract.sh [name ...]        # default: every source
#
# Resumable: a source whose $DATA/raw/<name>/.done exists is skipped. Stops with the
# source's name when its snapshot is missing or lacks the commit (fetch it again).
set -euo pipefail
source "$(dirname "$0")/common.sh"
want=" $* "
sources | while IFS=$'\t' read -r name repo commit folder; do
  [[ $# -eq 0 || "$want" == *" $name "* ]] || continue
  out="$DATA/raw/$name"
  if [[ -e "$out/.done" ]]; then echo "$name: already extracted"; continue; fi
  git=$(git_dir "$repo")
  if ! git --git-dir="$git" cat-file -e "$commit^{commit}" 2>/dev/null; then
    echo "$name: no snapshot of $repo at $commit under $MIRRORS (fetch github:$repo)" >&2
    exit 2
  fi
  rm -rf "$out" && mkdir -p "$out"
  depth=$(awk -F/ '{print NF}' <<<"$folder")
  git --git-dir="$git" archive --format=tar "$commit" -- "$folder" |
    tar -x -C "$out" --strip-components="$depth"
  # Files of 4 MiB and more are absent from snapshots: git archive leaves such a blob
  # out (with an error message), so the count must match the commit's listing.
  n=$(find "$out" -type f | wc -l)
  listed=$(git --git-dir="$git" ls-tree -r --name-only "$commit" -- "$folder" | wc -l)
  if [[ "$n" -ne "$listed" ]]; then
    echo "$name: $n files extracted, $listed in $repo@$commit:$folder (blobs missing from the snapshot?)" >&2
    exit 2
  fi
  echo "$n" > "$out/.done"
  echo "$name: $n files from $repo@${commit:0:10}:$folder"
done
