#!/bin/bash
# Resume training the 128-px DCGAN from the weights a session left in dev/runs/ (issue 24).
#
#   PYTHON=/path/to/venv/bin/python dev/runs/dcgan-128.sh [extra dcgan-train flags]
#
# The machines of this project are not always kept between sessions, so a run may not be
# resumable from its TensorFlow checkpoint in the next one (where it is, rerun the run's
# own command in its folder instead: leg 2 did). What always carries over is the weights file
# dev/runs/dcgan-128.npz (dcgan-export --weights: G's moving average and D, float16, with
# the model config; 17.6 MB): a new run starts from it with --init_from, the
# optimizers fresh, as version 2 of the 64-px model started from version 1. The grown
# model is a plain 128-px model once its fade is complete, so --init_from takes it.
#
# 1. the 128-px face set SET (dev/data-128/common.sh; docs/data-128.md): v2 by default
#    (6 sources, 54,978 training faces; legs 1-4 read SET=first, 4 sources, 31,213), built
#    when absent, about an hour on 2 cores: the fetched snapshots must be in MIRRORS;
# 2. dcgan-train from the weights file, in RUN (default: <the repository's parent>/runs/dcgan-128),
#    checkpointing every 100 steps; rerun this script to resume that run exactly within
#    a session (the weights file is then ignored: the checkpoint wins).
# At the end of a session: dcgan-export --checkpoint_dir RUN/ckpt --out NEW.npz --weights,
# then replace dev/runs/dcgan-128.npz with it and note the step in dev/runs/README.md.
set -euo pipefail
source "$(dirname "$0")/../data-128/common.sh"
RUN=${RUN:-$(dirname "$REPO")/runs/dcgan-128}
SEED=${SEED:-1}      # another seed than the last leg's, for other z and another data order
INIT=${INIT:-$REPO/dev/runs/dcgan-128.npz}   # or the shipped weights, when a leg went astray
# Two G updates per D update (the DCGAN default) now that the fade is over: with one, D
# won more and more after it (D(G(z)) 0.10 by step 6,500); dev/runs/README.md, leg 2.

ensure_set
mkdir -p "$RUN"
cd "$RUN"
exec nice -n 5 "$(dirname "$PYTHON")/dcgan-train" --dataset "$TRAIN" --image_size 128 \
  --init_from "$INIT" --seed "$SEED" --g_steps 2 --ema 0.999 \
  --precision mixed_bfloat16 --batch_size 64 --epoch 20 --checkpoint_dir ckpt \
  --sample_dir samples --log_dir logs --checkpoint_every 100 --sample_every 250 \
  --no_progress "$@"
