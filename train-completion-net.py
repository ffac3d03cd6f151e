#!/usr/bin/env python3
"""Train a completion network from incomplete faces only: ./train-completion-net.py --dataset DIR (see --help)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # run from a checkout, uninstalled

from dcgan_completion.cli.train_completion import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
