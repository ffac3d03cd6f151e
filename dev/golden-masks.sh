#!/bin/bash
# More golden outputs, of every mask kind, --photo and --photoMask (beside dev/golden.py).
#   dev/golden-masks.sh OUT GOLDEN   (GOLDEN: a dev/golden.py recording, for its faces and photos)
# then: python dev/golden.py compare OUT_BEFORE OUT_AFTER. Run from the checkout to record.
set -e
OUT=$1; G=$2
PYTHON=${PYTHON:-python}          # the interpreter with the project installed
PY="$PYTHON -m"
export PYTHONPATH=$PWD
$PY dcgan_completion.cli.evaluate $G/faces --masks random patch grid lowres full left --methods navier-stokes network dcgan --nIter 5 --limit 8 --outDir $OUT/eval --noProgress
for k in patch lowres grid left full; do
  $PY dcgan_completion.cli.complete $G/faces/face0[0-5].png --maskType $k --nIter 5 --outDir $OUT/c-$k --noProgress --seed 3
done
$PY dcgan_completion.cli.complete $G/faces/face0[0-5].png --maskType patch --method network --outDir $OUT/n-patch --noProgress --seed 3
$PY dcgan_completion.cli.complete $G/demo/photos/* --photo --maskType random --nIter 5 --outDir $OUT/photo-random --noProgress --seed 4
$PY dcgan_completion.cli.complete $G/demo/photos/* --photo --maskType patch --method network --outDir $OUT/photo-patch --noProgress --seed 4
mkdir -p $OUT/pm; $PYTHON -c "
import numpy as np; from PIL import Image; import sys
for n in ['astronaut.png','grace_hopper.jpg']:
    im=Image.open('$G/demo/photos/'+n); w,h=im.size; m=np.full((h,w),255,np.uint8); m[h//4:h//2, w//3:w//2]=0
    Image.fromarray(m).save('$OUT/pm/'+n.split('.')[0]+'.png')"
$PY dcgan_completion.cli.complete $G/demo/photos/* --photo --photoMask $OUT/pm --nIter 5 --outDir $OUT/photo-mask --noProgress
