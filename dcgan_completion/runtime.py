"""Starting TensorFlow without its start-up noise.

Every TensorFlow process prints 4-6 lines when it starts (the absl pre-init warning, the
oneDNN notice, CUDA stubs, cpu_feature_guard, a cuInit error on machines without a GPU).
``TF_CPP_MIN_LOG_LEVEL`` does not hide the first of them in TF 2.21: they are written
before logging is initialised. So file descriptor 2 is sent to /dev/null around the
import and the first device query, then restored: Python warnings and later errors
still show; TensorFlow's later C++ messages are hidden by the level below.
"""

from __future__ import annotations

import contextlib
import os
import sys

# TF_CPP_MIN_LOG_LEVEL while quiet: 3 also hides a spurious grappler "remapper failed"
# error line that TF 2.21 prints on CPU; --verbose (or TF_CPP_MIN_LOG_LEVEL=0) shows all.
QUIET_CPP_LEVEL = "3"


@contextlib.contextmanager
def stderr_silenced():
    """Send file descriptor 2 (C and C++ libraries included) to /dev/null inside the block."""
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def start_tensorflow(verbose: bool = False):
    """Import TensorFlow and initialise its devices, silently unless ``verbose``; returns it."""
    if verbose:
        import tensorflow as tf
        return tf
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", QUIET_CPP_LEVEL)
    with stderr_silenced():
        import tensorflow as tf
        tf.config.list_physical_devices("GPU")      # cuInit and the CUDA stubs speak here
    return tf
