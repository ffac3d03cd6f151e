#!/bin/bash
# Rebuild the 128-px face set from the fetched snapshots (docs/data-128.md):
#   extract.py -> align.sh -> finish.py, each resumable: rerun this after any stop.
#
#   PYTHON=/path/to/venv/bin/python dev/data-128/build.sh      # DATA=<the repository's parent>/data-128 by default
set -euo pipefail
source "$(dirname "$0")/common.sh"
"$PYTHON" "$HERE/extract.py" --data "$DATA" --mirrors "$MIRRORS"
"$HERE/align.sh"
nice -n 19 "$PYTHON" "$HERE/finish.py" --data "$DATA"
