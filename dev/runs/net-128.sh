#!/bin/bash
# Train the 128-px completion network on (issue 24), from the file a session left in
# dev/runs/ or, the first time, from the bundled 64-px network.
#
#   PYTHON=/path/to/venv/bin/python dev/runs/net-128.sh [extra dcgan-train-completion flags]
#
# As for dev/runs/dcgan-128.sh: the machines are not always kept, so what carries over is
# the weights file dev/runs/net-128.npz (dcgan-export --weights, float16, with the config;
# 3 MB), from which a new run starts with --init_from (the critic and the optimizers
# fresh). Without that file the run starts from the bundled 64x64 network, as the first
# leg did: the network is fully convolutional, so its weights fit any image size.
#
# 1. the 128-px face set SET, v2 by default (as for dev/runs/dcgan-128.sh; legs 1-5 read
#    SET=first), built when absent;
# 2. dcgan-train-completion in RUN (default: <the repository's parent>/runs/net-128),
#    a checkpoint every 250 steps; rerun this script to resume that run exactly within a
#    session (the checkpoint wins over --init_from). A new leg on a machine that kept an
#    older run needs a new RUN folder (e.g. RUN=.../runs/net-128-leg4): a run's saved
#    settings (seed, --ema) cannot change on resume.
# --ema 0.999 (from leg 4 on): the run keeps a moving average of the network's weights,
# which samples and dcgan-export use; legs 2-3 showed why (the mean of their checkpoints
# beat every single one: dev/runs/README.md).
# Batch 16: on the 2-core CPU a step of 16 128-px images takes about 2 s (8 images/s),
# and fine-tuning gains more from four times the updates than from larger batches.
# At the end of a session: dcgan-export --checkpoint_dir RUN/ckpt --out NEW.npz --weights,
# then replace dev/runs/net-128.npz with it and note the step in dev/runs/README.md.
set -euo pipefail
source "$(dirname "$0")/../data-128/common.sh"
RUN=${RUN:-$(dirname "$REPO")/runs/net-128}
START="$REPO/dev/runs/net-128.npz"
FIRST_SEED=1          # a later leg's data order and holes differ from the first leg's (seed 0)
[[ -f "$START" ]] || { START=bundled; FIRST_SEED=0; }
SEED=${SEED:-$FIRST_SEED}

ensure_set
mkdir -p "$RUN"
cd "$RUN"
exec nice -n 5 "$(dirname "$PYTHON")/dcgan-train-completion" --dataset "$TRAIN" \
  --image_size 128 --init_from "$START" --seed "$SEED" --d_steps 1 --batch_size 16 \
  --precision mixed_bfloat16 --epoch 5 --checkpoint_dir ckpt --sample_dir samples \
  --log_dir logs --sample_every 250 --checkpoint_every 250 --ema 0.999 --no_progress "$@"
