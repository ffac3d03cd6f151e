"""A trained completion network on disk: its weights file, its checkpoint folder, the bundled one.

    save_completion_net_weights(config, net, path)   float16 .npz + config, no critic
    load_completion_net(path_or_dir, dtype_policy)   (config, net) from a weights file, a
                                                     dcgan-train-completion folder or
                                                     (None) the bundled face network

Only the network is read (checkpoint object ``completion_net``); nothing here imports the
training code, so completing with a network does not load the trainer.
"""

from __future__ import annotations

import os

import keras
import numpy as np

from .. import checkpoints
from .networks import (CONFIG_KIND, CompletionConfig, CompletionConfigError, build_completion_net,
                       load_completion_config)

# The bundled networks, one per image size (as checkpoints.BUNDLED_DCGAN_NAMES):
# BUNDLED_NETWORK is the default one, the others lie beside it.
BUNDLED_NETWORK_NAMES = {64: "completion-net-celeba-64.npz", 128: "completion-net-faces-128.npz"}
# A run's network in its checkpoints, and its moving average where the run keeps one
# (training.CompletionTrainer; loading a run folder takes the average).
NET_NAME, EMA_NAME = "completion_net", "completion_net_ema"
# From the package's models folder, not from BUNDLED_WEIGHTS: a test that points the DCGAN
# elsewhere while this module is first imported must not move the network with it.
BUNDLED_NETWORK = os.path.join(checkpoints.MODELS_DIR,
                               BUNDLED_NETWORK_NAMES[checkpoints.DEFAULT_MODEL_SIZE])


def bundled_networks() -> dict[int, str]:
    """{image size: weights file} of the bundled completion networks installed, smallest first."""
    return checkpoints.bundled_files(BUNDLED_NETWORK, BUNDLED_NETWORK_NAMES)


def bundled_network_available() -> bool:
    return os.path.isfile(BUNDLED_NETWORK)


def save_completion_net_weights(config: CompletionConfig, net: keras.Model, path: str,
                                dtype=np.float16) -> str:
    """Write the network's weights (float16 by default) and its config to ``path`` (.npz),
    atomically (checkpoints.write_weights_file).

    Batch-norm statistics included; no critic, no optimizer. Loaded without pickle.
    """
    arrays = {w.path: np.asarray(w.numpy(), dtype) for w in net.weights}
    return checkpoints.write_weights_file(path, arrays, {"kind": CONFIG_KIND, **config.to_dict()})


def _load_weights_file(path: str, dtype_policy: str) -> tuple[CompletionConfig, keras.Model]:
    arrays, meta = checkpoints.read_weights_file(path)    # CheckpointError for a bad file
    if meta.pop("kind", None) != CONFIG_KIND:
        raise checkpoints.CheckpointError(
            f"{path} holds no completion network (a DCGAN weights file? load it with "
            "checkpoints.load_model)", setting="load_model")
    try:
        config = CompletionConfig.from_dict(meta)
    except (ValueError, TypeError) as e:      # CompletionConfigError is a ValueError
        raise checkpoints.CheckpointError(f"{path} holds no valid completion-net config: "
                                          f"{e}") from e
    net = build_completion_net(config, dtype_policy=dtype_policy)
    checkpoints.restore_weights(path, arrays, {w.path: w for w in net.weights})
    return config, net


def _load_checkpoint_dir(directory: str, dtype_policy: str) -> tuple[CompletionConfig, keras.Model]:
    try:
        config, _ = load_completion_config(directory)
    except (FileNotFoundError, CompletionConfigError) as e:
        raise checkpoints.CheckpointError(str(e)) from e
    net = build_completion_net(config, dtype_policy=dtype_policy)
    checkpoints.restore_network(directory, NET_NAME, net, prefer=EMA_NAME)
    return config, net


def in_precision(config: CompletionConfig, net: keras.Model, dtype_policy: str
                 ) -> tuple[CompletionConfig, keras.Model]:
    """(config, net) rebuilt to compute in ``dtype_policy`` with the same weights: another
    precision without reading the files again."""
    other = build_completion_net(config, dtype_policy=dtype_policy)
    other.set_weights(net.get_weights())
    return config, other


def load_completion_net(path_or_dir: str | None = None, dtype_policy: str = "float32"
                        ) -> tuple[CompletionConfig, keras.Model]:
    """(config, net) from a checkpoint folder (dcgan-train-completion's), a weights .npz,
    or (None) the bundled face network. The net computes in ``dtype_policy`` whatever it
    was trained in (variables, the prefill and the output stay float32).

    Raises checkpoints.CheckpointError with a message naming the file and the problem.
    """
    if path_or_dir is None:
        if not bundled_network_available():
            raise checkpoints.CheckpointError(
                "no completion network given and none bundled: pass a folder written by "
                "dcgan-train-completion, or its weights file")
        path_or_dir = BUNDLED_NETWORK
    if os.path.isfile(path_or_dir):
        return _load_weights_file(path_or_dir, dtype_policy)
    if not os.path.isdir(path_or_dir):
        raise checkpoints.CheckpointError(f"{path_or_dir!r} is neither a checkpoint folder "
                                          "nor a weights file")
    return _load_checkpoint_dir(path_or_dir, dtype_policy)
