#!/bin/bash
# Rebuild the 128-px face set from the fetched snapshots (docs/data-128.md):
#   extract.py -> align.sh -> finish.py, each resumable: rerun this after any stop.
#
#   PYTHON=/path/to/venv/bin/python dev/data-128/build.sh      # DATA=<the repository's parent>/data-128 by default
#
# Writes the current set, v2 (every source in sources.tsv): DATA/train-128-v2 and
# DATA/faces-128-validation-v2.txt, checked to begin with the lines of the first set's
# DATA/faces-128-validation.txt when that exists. The first set (the four sources
# before helen-afw) is DATA/train-128 + faces-128-validation.txt, left as it is; to
# remake it alone: finish.py --only utkface scut-fbp5500 aaf mebeauty.
set -euo pipefail
source "$(dirname "$0")/common.sh"
"$PYTHON" "$HERE/extract.py" --data "$DATA" --mirrors "$MIRRORS"
"$HERE/align.sh"
extends=()
[[ -f "$DATA/faces-128-validation.txt" ]] && extends=(--extends faces-128-validation.txt)
nice -n 19 "$PYTHON" "$HERE/finish.py" --data "$DATA" --train train-128-v2 \
  --validation faces-128-validation-v2.txt "${extends[@]}"
