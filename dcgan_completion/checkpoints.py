"""Loading trained networks from a checkpoint folder, and exporting the generator.

A checkpoint folder (written by dcgan-train) holds ``config.json`` and tf.train
checkpoints; this module rebuilds the networks from the config and restores only the
weights (optimizer state is left out), so every command can load any run.
"""

from __future__ import annotations

import json
import os

import keras
import numpy as np
import tensorflow as tf

from .config import ModelConfig, load_config
from .model import build_discriminator, build_generator


class CheckpointError(ValueError):
    """A checkpoint folder that cannot be loaded; the message says which and why."""


def load_models(checkpoint_dir: str, dtype_policy: str = "float32"
                ) -> tuple[ModelConfig, keras.Model, keras.Model]:
    """(config, generator, discriminator) from the newest checkpoint in ``checkpoint_dir``."""
    if not os.path.isdir(checkpoint_dir):
        raise CheckpointError(f"checkpoint folder {checkpoint_dir!r} does not exist")
    config, _ = load_config(checkpoint_dir)
    # Inference needs no cross-replica statistics; keep the same variables otherwise.
    config = config.replace(synchronized_bn=False, dtype_policy=dtype_policy)
    latest = tf.train.latest_checkpoint(checkpoint_dir)
    if latest is None:
        raise CheckpointError(f"no checkpoint found in {checkpoint_dir!r} (config.json is there, "
                              "but no weights: did training save at least once?)")
    generator, discriminator = build_generator(config), build_discriminator(config)
    ckpt = tf.train.Checkpoint(generator=generator, discriminator=discriminator)
    try:
        ckpt.restore(latest).expect_partial().assert_existing_objects_matched()
    except (AssertionError, ValueError, tf.errors.OpError) as e:
        raise CheckpointError(f"{latest} does not match the model in {checkpoint_dir}/config.json "
                              f"({config.image_size}x{config.image_size}x{config.channels}, "
                              f"z_dim {config.z_dim}): {e}") from e
    return config, generator, discriminator


# --- compact weights files (the bundled model) -----------------------------------------
#
# One .npz holding every weight of G and D (float16 by default: half the size, and the
# networks' outputs change by < 1e-3) under "<network>/<layer>/<weight>" names, plus the
# model config as JSON text. Loading never unpickles: np.load(allow_pickle=False).

CONFIG_KEY = "__config__"


def save_weights_file(config: ModelConfig, generator: keras.Model, discriminator: keras.Model,
                      path: str, dtype=np.float16) -> str:
    """Write G's and D's weights and the config to ``path`` (.npz)."""
    arrays = {f"{net.name}/{w.path}": np.asarray(w.numpy(), dtype)
              for net in (generator, discriminator) for w in net.weights}
    arrays[CONFIG_KEY] = np.array(json.dumps(config.to_dict()))
    tmp = path + ".tmp.npz"
    np.savez_compressed(tmp, **arrays)
    os.replace(tmp, path)
    return path


def load_weights_file(path: str, dtype_policy: str = "float32"
                      ) -> tuple[ModelConfig, keras.Model, keras.Model]:
    """(config, generator, discriminator) from a weights file, every shape checked."""
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
        config = ModelConfig.from_dict(json.loads(str(arrays.pop(CONFIG_KEY))))
    except FileNotFoundError as e:
        raise CheckpointError(f"weights file {path!r} not found") from e
    except (OSError, ValueError, KeyError) as e:
        raise CheckpointError(f"{path} is not a dcgan-completion weights file: {e}") from e
    config = config.replace(synchronized_bn=False, dtype_policy=dtype_policy)
    generator, discriminator = build_generator(config), build_discriminator(config)
    expected = {f"{net.name}/{w.path}": w for net in (generator, discriminator) for w in net.weights}
    missing, extra = sorted(set(expected) - set(arrays)), sorted(set(arrays) - set(expected))
    if missing or extra:
        raise CheckpointError(f"{path} does not match its own config: missing {missing[:5]}, "
                              f"unexpected {extra[:5]}")
    for name, weight in expected.items():
        if tuple(arrays[name].shape) != tuple(weight.shape):
            raise CheckpointError(f"{path}: {name} has shape {arrays[name].shape}, "
                                  f"the model needs {tuple(weight.shape)}")
        weight.assign(arrays[name].astype(np.float32))
    return config, generator, discriminator


# --- one entry point for every command ---------------------------------------------------

BUNDLED_WEIGHTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "models",
                               "dcgan-celeba-64.npz")


def bundled_model_available() -> bool:
    return os.path.isfile(BUNDLED_WEIGHTS)


def load_model(source: str | None = None, dtype_policy: str = "float32"
               ) -> tuple[ModelConfig, keras.Model, keras.Model]:
    """(config, G, D) from a checkpoint folder, a weights file, or (None) the bundled model."""
    if source is None:
        if not bundled_model_available():
            raise CheckpointError("no model given and no bundled model installed: pass "
                                  "--checkpointDir DIR, a checkpoint folder written by dcgan-train")
        source = BUNDLED_WEIGHTS
    if os.path.isfile(source):
        return load_weights_file(source, dtype_policy)
    return load_models(source, dtype_policy)


class _GeneratorModule(tf.Module):
    def __init__(self, generator: keras.Model, z_dim: int):
        super().__init__()
        self.generator = generator
        self.z_dim = z_dim

        @tf.function(input_signature=[tf.TensorSpec((None, z_dim), tf.float32, name="z")])
        def generate(z):
            """z (B, z_dim) in [-1, 1] -> images (B, H, W, C) in [-1, 1]."""
            return {"images": self.generator(z, training=False)}

        self.generate = generate


def export_generator(generator: keras.Model, export_dir: str) -> str:
    """Write the generator as a SavedModel with a ``serving_default`` signature.

    Load it with plain TensorFlow: ``m = tf.saved_model.load(dir); m.generate(z)`` or
    ``m.signatures['serving_default'](z=z)['images']``.
    """
    if os.path.exists(export_dir) and os.listdir(export_dir):
        raise FileExistsError(f"export folder {export_dir!r} exists and is not empty; "
                              "choose a new one (nothing is overwritten)")
    module = _GeneratorModule(generator, generator.input_shape[-1])
    tf.saved_model.save(module, export_dir, signatures={"serving_default": module.generate})
    return export_dir
