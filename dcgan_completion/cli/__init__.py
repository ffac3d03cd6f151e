"""Command-line front ends: argument parsing, run folders and messages; no algorithms."""

import os

# Quiet TensorFlow's C++ start-up chatter (CUDA probing, oneDNN notices, a spurious grappler
# "remapper failed" line); set TF_CPP_MIN_LOG_LEVEL=0 to see it all again.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
