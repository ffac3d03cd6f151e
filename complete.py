#!/usr/bin/env python3
"""Complete face images with a trained DCGAN: ./complete.py --checkpointDir DIR IMAGE... (see --help)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # run from a checkout, uninstalled

from dcgan_completion.cli.complete import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
