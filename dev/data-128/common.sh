# Shared settings of the dev/data-128 scripts (sourced, not run).
# DATA: where the photos, the aligned faces and the finished set go (never the repository).
# MIRRORS: where fetch put the repository snapshots (<owner>+<name>/repo[/.git]).
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
# Defaults beside the repository (its parent folder), never inside it.
DATA=${DATA:-$(dirname "$REPO")/data-128}
MIRRORS=${MIRRORS:-$(dirname "$REPO")/.mirror}
# Exported: align.sh, run from ensure_first_set, must use the same interpreter.
export PYTHON=${PYTHON:-$(command -v python3)}

# The sources, one "name repo commit folder" line each (comments and licences dropped).
sources() {
  grep -v '^#' "$HERE/sources.tsv" | cut -f1-4 | grep .
}

# The git directory of a fetched snapshot of owner/name.
git_dir() {
  local base="$MIRRORS/${1/\//+}/repo"
  if [[ -d "$base/.git" ]]; then echo "$base/.git"; else echo "$base"; fi
}

# The first set (4 sources; docs/data-128.md), built when it is missing: what the training
# runs of dev/runs/ read. About 20 minutes with 2 workers; each step resumes.
FIRST_SET=(utkface scut-fbp5500 aaf mebeauty)
ensure_first_set() {
  if [[ ! -f "$DATA/faces-128-validation.txt" ]]; then
    "$PYTHON" "$HERE/extract.py" --data "$DATA" --mirrors "$MIRRORS" "${FIRST_SET[@]}"
    WORKERS=${WORKERS:-2} "$HERE/align.sh" "${FIRST_SET[@]}"
    "$PYTHON" "$HERE/finish.py" --data "$DATA" --only "${FIRST_SET[@]}"
  fi
}

# The set a training run of dev/runs/ reads, by SET: "v2" (the default from 2026-12-07's
# last session on: every source, 54,978 training faces; build.sh, 26 minutes more on
# 2 cores where the first set is there) or "first" (the four sources, 31,213 faces, that
# the legs before it trained on). Sets TRAIN to its training folder.
SET=${SET:-v2}
ensure_set() {
  case "$SET" in
    first) ensure_first_set; TRAIN="$DATA/train-128" ;;
    v2) ensure_first_set   # first, so that v2's split extends the first set's
        [[ -f "$DATA/faces-128-validation-v2.txt" ]] || WORKERS=${WORKERS:-2} "$HERE/build.sh"
        TRAIN="$DATA/train-128-v2" ;;
    *) echo "SET is first or v2, not '$SET'" >&2; exit 2 ;;
  esac
}
