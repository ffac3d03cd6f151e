#!/usr/bin/env python3
"""Train a DCGAN on a folder of face images: ./train-dcgan.py --dataset DIR --epoch 20 (see --help)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # run from a checkout, uninstalled

from dcgan_completion.cli.train import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
