"""Command-line front ends: argument parsing, run folders and messages; no algorithms."""

import sys

from ..runtime import start_tensorflow

# Every command imports TensorFlow, most while building their parser (the defaults they
# show live in modules that use it), and the aligner's worker processes import this
# package again: start TensorFlow here, once per process, without its start-up lines
# unless --verbose is on the command line.
start_tensorflow(verbose="--verbose" in sys.argv[1:])
