#!/usr/bin/env python3
"""Align faces with dlib: scripts/align-dlib.py INPUT_DIR align innerEyesAndBottomLip OUTPUT_DIR --size 64."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # uninstalled checkout

from dcgan_completion.cli.align import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
