#!/usr/bin/env python3
"""See dcgan_completion/cli/distributions.py, or run with --help."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # uninstalled checkout

from dcgan_completion.cli.distributions import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
