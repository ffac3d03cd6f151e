#!/bin/bash
# Align each source's photos to 128x128 faces with this project's aligner, never
# upsampling (--maxScale 1): $DATA/aligned/<name>/ (faces, manifest.jsonl, align-log.txt).
#
#   dev/data-128/align.sh [name ...]          # default: every source
#
# Resumable: the aligner skips faces already written; rerun the same command after a
# stop. Runs at the lowest priority with WORKERS processes (default 1): the machine is shared.
set -uo pipefail
source "$(dirname "$0")/common.sh"
WORKERS=${WORKERS:-1}
want=" $* "
status=0
while IFS=$'\t' read -r name repo commit folder; do
  [[ $# -eq 0 || "$want" == *" $name "* ]] || continue
  echo "$name: aligning $DATA/raw/$name -> $DATA/aligned/$name ($(date -u +%FT%TZ))"
  nice -n 19 "$PYTHON" "$REPO/scripts/align-dlib.py" "$DATA/raw/$name" align \
    innerEyesAndBottomLip "$DATA/aligned/$name" --size 128 --flat --maxScale 1 \
    --workers "$WORKERS" --noProgress
  rc=$?
  # 1 = some photos skipped (no face, refused as upsampled): expected. 130 = stopped.
  if [[ $rc -ne 0 && $rc -ne 1 ]]; then echo "$name: aligner exit status $rc" >&2; status=$rc; fi
  # ... but 1 is also how Python ends on an error before aligning anything (no TensorFlow in
  # $PYTHON, say): with no manifest written, the source failed.
  if [[ $rc -ne 130 && ! -f "$DATA/aligned/$name/manifest.jsonl" ]]; then
    echo "$name: the aligner wrote no manifest.jsonl (exit status $rc)" >&2; status=1
  fi
  [[ $rc -eq 130 ]] && break
done < <(sources)
echo "align.sh finished ($(date -u +%FT%TZ)), status $status"
exit $status
