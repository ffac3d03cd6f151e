"""Loading trained networks from a checkpoint folder, and exporting the generator.

A checkpoint folder (written by dcgan-train) holds ``config.json`` and tf.train
checkpoints; this module rebuilds the networks from the config and restores only the
weights (optimizer state is left out), so every command can load any run.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shutil
import uuid
import zipfile
import zlib

import keras
import numpy as np
import tensorflow as tf

from . import files
from .config import ModelConfig, load_config, load_kind_config
from .encoder import CONFIG_KIND as ENCODER_KIND
from .encoder import EncoderConfig, build_encoder
from .model import build_discriminator, build_generator

log = logging.getLogger(__name__)


class CheckpointError(ValueError):
    """A checkpoint folder that cannot be loaded; the message says which and why.

    ``setting``: what would load it instead, or None: the argument to give ("source"), or
    the loader of the file's other kind ("load_model", "load_completion_net"); a command
    line names its own flag for it (cli.common.error_message).
    """

    def __init__(self, message: str, setting: str | None = None):
        super().__init__(message)
        self.setting = setting


# What restoring a cut-off or corrupt .index / .data file raises: TensorFlow's read errors,
# and IndexError ("Read less bytes than requested") from a short .data file.
CHECKPOINT_DAMAGED = (tf.errors.OpError, IndexError, EOFError)


def damaged_checkpoint(latest: str, error: Exception) -> str:
    """The message for a checkpoint whose files cannot be read."""
    reason = getattr(error, "message", None) or str(error)
    return f"checkpoint {latest} is truncated or damaged ({reason}); copy the folder again"


# --- which checkpoint a run folder holds -------------------------------------------------

CHECKPOINT_INDEX = "checkpoint"      # TF's CheckpointManager state: the list of checkpoints
CHECKPOINT_NAME = re.compile(r"ckpt-(\d+)\.index")


def checkpoint_step(prefix: str) -> int:
    return int(os.path.basename(prefix).rsplit("-", 1)[1])


def saved_checkpoints(directory: str) -> list[str]:
    """The checkpoints in ``directory`` (paths without suffix), newest first, found from
    their ``ckpt-<step>.index`` files, whatever TF's index file says."""
    if not os.path.isdir(directory):
        return []
    found = [m for m in map(CHECKPOINT_NAME.fullmatch, os.listdir(directory)) if m]
    steps = sorted((int(m.group(1)) for m in found), reverse=True)
    return [os.path.join(directory, f"ckpt-{step}") for step in steps]


def listed_checkpoint(directory: str) -> tuple[str | None, str | None]:
    """(the newest checkpoint TF's index file lists, None) when it lists one that is there,
    else (None, why not, in words)."""
    path = os.path.join(directory, CHECKPOINT_INDEX)
    if not os.path.exists(path):
        return None, f"its index file {path} is missing"
    try:
        # TF logs its parser's complaint (twice: its handler and the root's) at each call;
        # the callers say it once, in their own words.
        with _tensorflow_log_quiet():
            state = tf.train.get_checkpoint_state(directory)
            listed = tf.train.latest_checkpoint(directory)
    # TF returns None for text it cannot parse, but raises on bytes that are not UTF-8.
    except (ValueError, tf.errors.OpError, OSError):
        state = listed = None
    if state is None or not state.model_checkpoint_path:
        return None, f"its index file {path} is unreadable"
    if listed is None:
        return None, f"its index file {path} names {state.model_checkpoint_path}, which is not there"
    return listed, None


@contextlib.contextmanager
def _tensorflow_log_quiet():
    """TensorFlow's Python logger silenced below ERROR inside the block."""
    logger = tf.get_logger()
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def newest_checkpoint(directory: str) -> str | None:
    """The checkpoint to load from ``directory``: the one TF's index file names, or, with
    the index lost or garbled (said once, as a warning), the newest ``ckpt-<step>`` found;
    None if there is none."""
    listed, problem = listed_checkpoint(directory)
    if listed is not None:
        return listed
    found = saved_checkpoints(directory)
    if found:
        log.warning("%s: %s; loading the newest checkpoint there, %s", directory, problem,
                    os.path.basename(found[0]))
    return found[0] if found else None


def in_precision(config: ModelConfig, generator: keras.Model, discriminator: keras.Model,
                 dtype_policy: str) -> tuple[ModelConfig, keras.Model, keras.Model]:
    """(config, G, D) rebuilt to compute in ``dtype_policy`` with the same weights (the
    variables stay float32 in every policy): another precision without reading the files
    again."""
    config = config.replace(dtype_policy=dtype_policy)
    G, D = build_generator(config), build_discriminator(config)
    G.set_weights(generator.get_weights())
    D.set_weights(discriminator.get_weights())
    return config, G, D


def saved_objects(checkpoint: str) -> set[str]:
    """The names of the objects a checkpoint holds (e.g. generator, generator_ema)."""
    return {name.split("/")[0] for name, _ in tf.train.list_variables(checkpoint)}


def _newest_or_error(directory: str) -> str:
    """The newest checkpoint in ``directory``; CheckpointError when there is none."""
    latest = newest_checkpoint(directory)
    if latest is None:
        raise CheckpointError(f"no checkpoint found in {directory!r} (config.json is there, "
                              "but no weights: did training save at least once?)")
    return latest


def _restore(latest: str, objects: dict, mismatch: str, prefer: dict | None = None) -> None:
    """Restore ``objects`` (checkpoint object name -> network) from checkpoint ``latest``,
    each saved under ``prefer``'s name for it where the checkpoint holds that (a run's
    moving average), the rest of the checkpoint left out. CheckpointError, naming
    ``mismatch`` (what the checkpoint should fit), when it does not fit or cannot be read."""
    try:
        if prefer:
            saved = saved_objects(latest)
            objects = {prefer[name] if prefer.get(name) in saved else name: net
                       for name, net in objects.items()}
        tf.train.Checkpoint(**objects).restore(latest).expect_partial() \
            .assert_existing_objects_matched()
    except (AssertionError, ValueError) as e:
        raise CheckpointError(f"{latest} does not match {mismatch}: {e}") from e
    except CHECKPOINT_DAMAGED as e:
        raise CheckpointError(damaged_checkpoint(latest, e)) from e


def restore_network(directory: str, name: str, net: keras.Model, prefer: str | None = None) -> str:
    """Restore ``net``, saved as checkpoint object ``name`` (or as ``prefer`` where the
    checkpoint holds that: a run's moving average), from the newest checkpoint in
    ``directory`` (the rest of the checkpoint is left out); returns that checkpoint.
    CheckpointError when there is none, it does not fit, or it cannot be read."""
    latest = _newest_or_error(directory)
    _restore(latest, {name: net}, f"{directory}/config.json", {name: prefer} if prefer else None)
    return latest


def load_models(checkpoint_dir: str, dtype_policy: str = "float32"
                ) -> tuple[ModelConfig, keras.Model, keras.Model]:
    """(config, generator, discriminator) from the newest checkpoint in ``checkpoint_dir``;
    the generator is the moving average of G where the run kept one."""
    if os.path.isfile(checkpoint_dir):
        raise CheckpointError(f"{checkpoint_dir!r} is a file, not a checkpoint folder")
    if not os.path.isdir(checkpoint_dir):
        raise CheckpointError(f"checkpoint folder {checkpoint_dir!r} does not exist")
    try:
        config, _ = load_config(checkpoint_dir)
    except FileNotFoundError as e:             # an empty or unrelated folder
        raise CheckpointError(str(e)) from e
    # Inference needs no cross-replica statistics; keep the same variables otherwise.
    config = config.replace(synchronized_bn=False, dtype_policy=dtype_policy)
    latest = _newest_or_error(checkpoint_dir)
    generator, discriminator = build_generator(config), build_discriminator(config)
    # A run that keeps a moving average of G (train.py, ema) is used through it.
    _restore(latest, {"generator": generator, "discriminator": discriminator},
             f"the model in {checkpoint_dir}/config.json ({config.image_size}x"
             f"{config.image_size}x{config.channels}, z_dim {config.z_dim})",
             {"generator": "generator_ema"})
    return config, generator, discriminator


def load_replicas(source: str | None = None, dtype_policy: str = "float32",
                  devices: list[str] | None = None) -> list[tuple[str, keras.Model, keras.Model]]:
    """(device, G, D): the model of ``source`` (as load_model) placed on each of
    ``devices``, by default every local GPU after the first (TensorFlow's default device
    holds the copy load_model gives). Completion runs one batch on each at once
    (outputs.run_projection); [] with one GPU or none."""
    if devices is None:
        devices = [d.name for d in tf.config.list_logical_devices("GPU")][1:]
    replicas = []
    for device in devices:
        with tf.device(device):
            replicas.append((device, *load_model(source, dtype_policy)[1:]))
    return replicas


# --- compact weights files (the bundled model) -----------------------------------------
#
# One .npz holding every weight of G and D (float16 by default: half the size, and the
# networks' outputs change by < 1e-3) under "<network>/<layer>/<weight>" names, plus the
# model config as JSON text. Loading never unpickles: np.load(allow_pickle=False).

CONFIG_KEY = "__config__"
# An .npz is a zip archive: it starts with a local file header, or (no arrays at all)
# with the end-of-archive record. Anything else is refused before numpy guesses at it:
# np.load would read other bytes as a pickle and advise loading it unsafely.
ZIP_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06")
# What a damaged archive raises from np.load: a cut-off file (BadZipFile, EOFError), a
# corrupt stream (zlib.error, BadZipFile "Bad CRC-32"), a bad array header (ValueError),
# an unsupported or encrypted member (NotImplementedError, RuntimeError).
_DAMAGED = (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, KeyError,
            NotImplementedError, RuntimeError)


def read_weights_file(path: str) -> tuple[dict, dict]:
    """({name: array}, config dict) of a weights file (.npz), the config key removed.

    The one reader of both kinds of weights file (the DCGAN's and the completion
    network's): every failure is a CheckpointError naming the file and saying what is
    wrong (missing, not a weights file, truncated or damaged); nothing is unpickled.
    """
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError as e:
        raise CheckpointError(f"weights file {path!r} {files.unreadable_reason(e)}") from e
    not_ours = f"{path} is not a dcgan-completion weights file"
    if head not in ZIP_SIGNATURES:
        raise CheckpointError(f"{not_ours}: it is not an .npz archive, as every weights "
                              "file is")
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    except ValueError as e:
        if "pickle" in str(e):       # numpy's advice to load it unsafely is not for us
            raise CheckpointError(f"{not_ours}: it holds Python objects, which are never "
                                  "loaded (only plain arrays are)") from e
        raise CheckpointError(f"{path} is truncated or damaged ({e}); copy or download it "
                              "again") from e
    except _DAMAGED as e:
        raise CheckpointError(f"{path} is truncated or damaged ({type(e).__name__}: {e}); "
                              "copy or download it again") from e
    text = arrays.pop(CONFIG_KEY, None)
    try:
        if text is None or text.shape != () or text.dtype.kind != "U":
            raise ValueError("no model config inside")
        meta = json.loads(str(text))
        if not isinstance(meta, dict):
            raise ValueError("its model config is not a JSON object")
    except ValueError as e:
        raise CheckpointError(f"{not_ours}: {e}") from e
    odd = sorted(k for k, a in arrays.items() if a.dtype.kind not in "fiu")
    if odd:
        raise CheckpointError(f"{not_ours}: {odd[0]} is not numbers ({arrays[odd[0]].dtype})")
    return arrays, meta


def restore_weights(path: str, arrays: dict, weights: dict) -> None:
    """Assign ``arrays`` (from read_weights_file) to ``weights`` ({name: variable}) after
    checking that the names and every shape match; CheckpointError otherwise."""
    missing, extra = sorted(set(weights) - set(arrays)), sorted(set(arrays) - set(weights))
    if missing or extra:
        raise CheckpointError(f"{path} does not match its own config: missing {missing[:5]}, "
                              f"unexpected {extra[:5]}")
    for name, weight in weights.items():
        if tuple(arrays[name].shape) != tuple(weight.shape):
            raise CheckpointError(f"{path}: {name} has shape {arrays[name].shape}, "
                                  f"the model needs {tuple(weight.shape)}")
    for name, weight in weights.items():    # only once all are known to fit
        weight.assign(arrays[name].astype(np.float32))


def write_weights_file(path: str, arrays: dict, meta: dict) -> str:
    """Write ``arrays`` and ``meta`` (the config, as JSON) to ``path`` atomically: an
    interrupted write never leaves a cut-off weights file under the real name."""
    arrays = {**arrays, CONFIG_KEY: np.array(json.dumps(meta))}
    # A file object, not a name: numpy would append .npz to a name without it.
    with files.atomic_write(path, "wb") as f:
        np.savez_compressed(f, **arrays)
    return path


def save_weights_file(config: ModelConfig, generator: keras.Model, discriminator: keras.Model,
                      path: str, dtype=np.float16) -> str:
    """Write G's and D's weights and the config to ``path`` (.npz)."""
    arrays = {f"{net.name}/{w.path}": np.asarray(w.numpy(), dtype)
              for net in (generator, discriminator) for w in net.weights}
    return write_weights_file(path, arrays, config.to_dict())


def load_weights_file(path: str, dtype_policy: str = "float32"
                      ) -> tuple[ModelConfig, keras.Model, keras.Model]:
    """(config, generator, discriminator) from a weights file, every shape checked."""
    arrays, meta = read_weights_file(path)
    if meta.get("kind") == "completion-net":
        raise CheckpointError(f"{path} holds a completion network, not a DCGAN: load it with "
                              "completion_net.weights.load_completion_net",
                              setting="load_completion_net")
    if meta.get("kind") == ENCODER_KIND:
        raise CheckpointError(f"{path} holds an encoder, not a DCGAN: give the model it "
                              f"belongs to (its encoder is found beside it)")
    try:
        config = ModelConfig.from_dict(meta)
    except (ValueError, TypeError) as e:      # ConfigError is a ValueError
        raise CheckpointError(f"{path} holds no valid DCGAN config: {e}") from e
    config = config.replace(synchronized_bn=False, dtype_policy=dtype_policy)
    generator, discriminator = build_generator(config), build_discriminator(config)
    restore_weights(path, arrays, {f"{net.name}/{w.path}": w
                                   for net in (generator, discriminator) for w in net.weights})
    return config, generator, discriminator


# --- one entry point for every command ---------------------------------------------------

# The bundled DCGANs, one per image size: the file each ships as. BUNDLED_WEIGHTS is the
# default one (what load_model(None) loads); the others lie beside it, and a size whose
# file is not installed is not offered (bundled_models).
BUNDLED_DCGAN_NAMES = {64: "dcgan-celeba-64.npz", 128: "dcgan-faces-128.npz"}
DEFAULT_MODEL_SIZE = 64
MODELS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "models")  # every bundled file
BUNDLED_WEIGHTS = os.path.join(MODELS_DIR, BUNDLED_DCGAN_NAMES[DEFAULT_MODEL_SIZE])


def bundled_files(default: str, names: dict[int, str], default_size: int = DEFAULT_MODEL_SIZE
                  ) -> dict[int, str]:
    """{image size: path} of the files of ``names`` ({size: file name}) installed beside
    ``default`` (the file of ``default_size``), smallest size first."""
    folder = os.path.dirname(default)
    paths = {size: os.path.join(folder, name) for size, name in names.items()}
    paths[default_size] = default
    return {size: paths[size] for size in sorted(paths) if os.path.isfile(paths[size])}


def bundled_models() -> dict[int, str]:
    """{image size: weights file} of the bundled DCGANs installed, smallest first."""
    return bundled_files(BUNDLED_WEIGHTS, BUNDLED_DCGAN_NAMES)


def bundled_model_available() -> bool:
    return os.path.isfile(BUNDLED_WEIGHTS)


def load_model(source: str | None = None, dtype_policy: str = "float32"
               ) -> tuple[ModelConfig, keras.Model, keras.Model]:
    """(config, G, D) from a checkpoint folder, a weights file, or (None) the bundled model."""
    if source is None:
        if not bundled_model_available():
            raise CheckpointError("no model given and no bundled model installed: give a "
                                  "checkpoint folder written by dcgan-train, or a weights file",
                                  setting="source")
        source = BUNDLED_WEIGHTS
    if os.path.isfile(source):
        return load_weights_file(source, dtype_policy)
    if not os.path.exists(source):
        raise CheckpointError(f"{source!r} does not exist: give a checkpoint folder written by "
                              "dcgan-train, or a weights file (.npz)")
    return load_models(source, dtype_policy)


# --- encoders: a learned start point for the projection (encoder.py) ---------------------
#
# Where the encoder of a model lives (one rule, used by every command):
#   a weights file .../name.npz  ->  .../name.encoder.npz beside it; for the bundled model
#                                    dcgan_completion/models/dcgan-celeba-64.encoder.npz
#   a checkpoint folder DIR      ->  DIR/encoder.npz (an exported encoder), else DIR/encoder/
#                                    (a dcgan-train-encoder run folder)
# An encoder is loaded only after its shape is checked against the model's.

ENCODER_SUFFIX = ".encoder.npz"
ENCODER_FILE = "encoder.npz"
ENCODER_DIR = "encoder"
ENCODER_WRITER = "dcgan-train-encoder"


def encoder_locations(source: str | None = None) -> list[str]:
    """Where the encoder of the model ``source`` (None: the bundled one) is looked for, in order."""
    source = BUNDLED_WEIGHTS if source is None else source
    if os.path.isdir(source):
        return [os.path.join(source, ENCODER_FILE), os.path.join(source, ENCODER_DIR)]
    return [os.path.splitext(source)[0] + ENCODER_SUFFIX]


def find_encoder(source: str | None = None) -> str | None:
    """The encoder file or run folder of the model ``source`` (None: the bundled model),
    or None when it has none."""
    for path in encoder_locations(source):
        if os.path.isfile(path) or os.path.isdir(path):
            return path
    return None


def start_encoder(source: str | None, model_config: ModelConfig, init: str | None,
                  encoder_path: str | None = None):
    """(encoder, its path) whose z starts the projection with the model ``source`` (None:
    the bundled one, of ``model_config``), or (None, None) for random starts. ``init``:
    "encoder", "random", or None (the model's encoder when it has one, else random);
    ``encoder_path`` overrides where it is looked for. CheckpointError (setting "encoder")
    when an encoder is asked for and there is none, or one that does not fit the model."""
    path = encoder_path or find_encoder(source)
    if (init or ("encoder" if path else "random")) == "random":
        return None, None
    if path is None:
        where = encoder_locations(source)
        model = f" --model {source}" if source else ""
        raise CheckpointError(
            f"{source or 'the bundled model'} has no encoder (looked for {' and '.join(where)}): "
            f"train one with `dcgan-train-encoder --dataset FACES{model} --export_weights "
            f"{where[0]}`, or start from random z", setting="encoder")
    _, encoder = load_encoder(path, model_config, pooled=True)
    return encoder, path


def load_encoder_config(directory: str) -> tuple[EncoderConfig, dict]:
    """(config, the rest of the file) of a dcgan-train-encoder run folder's config.json."""
    return load_kind_config(directory, EncoderConfig, ENCODER_KIND, "encoder", writer=ENCODER_WRITER)


def save_encoder_weights(config: EncoderConfig, encoder: keras.Model, path: str,
                         dtype=np.float16) -> str:
    """Write the encoder's weights (float16 by default) and its config to ``path`` (.npz)."""
    arrays = {w.path: np.asarray(w.numpy(), dtype) for w in encoder.weights}
    return write_weights_file(path, arrays, {"kind": ENCODER_KIND, **config.to_dict()})


def load_encoder(path: str, model_config: ModelConfig | None = None, *, pooled: bool = False
                 ) -> tuple[EncoderConfig, keras.Model]:
    """(config, float32 encoder) from an encoder weights file or a dcgan-train-encoder run
    folder. With ``model_config``, CheckpointError unless the encoder fits that model
    (image size, channels, z_dim), before any weight is read; with ``pooled`` too, an
    encoder of a model 2, 4 ... times smaller fits as well: it comes with its weights
    as the encoder of this model that reads the images averaged down (config.pooling),
    and the config returned is that one."""
    if os.path.isdir(path):
        try:
            config, _ = load_encoder_config(path)
        except (FileNotFoundError, ValueError) as e:    # EncoderConfigError is a ValueError
            raise CheckpointError(str(e)) from e
    else:
        arrays, meta = read_weights_file(path)          # CheckpointError for a bad file
        if meta.pop("kind", None) != ENCODER_KIND:
            raise CheckpointError(f"{path} holds no encoder (a model's weights file?)")
        try:
            config = EncoderConfig.from_dict(meta)
        except (ValueError, TypeError) as e:
            raise CheckpointError(f"{path} holds no valid encoder config: {e}") from e
    if model_config is not None:
        shape = (model_config.image_size, model_config.channels, model_config.z_dim)
        grown = config.grown(*shape) if pooled else None
        why = None if grown else config.mismatch(*shape)
        if why:
            raise CheckpointError(f"the encoder {path} does not fit the model: {why}. Train one "
                                  f"for this model with {ENCODER_WRITER}", setting="encoder")
        if grown:
            log.info("the %dx%d encoder %s reads this %dx%d model's images averaged down to %d "
                     "px", config.image_size, config.image_size, path, grown.image_size,
                     grown.image_size, config.image_size)
            config = grown
    config = config.replace(dtype_policy="float32")
    encoder = build_encoder(config)
    if os.path.isdir(path):
        restore_network(path, "encoder", encoder)
    else:
        restore_weights(path, arrays, {w.path: w for w in encoder.weights})
    return config, encoder


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


def check_export_dir(export_dir: str) -> str:
    """Refuse ``export_dir`` unless it is new or an empty folder whose parent is writable
    (FileExistsError for a folder holding files, files.OutputError otherwise)."""
    if os.path.isdir(export_dir) and os.listdir(export_dir):
        raise FileExistsError(f"export folder {export_dir!r} exists and is not empty; "
                              "choose a new one (nothing is overwritten)")
    if os.path.lexists(export_dir) and not os.path.isdir(export_dir):
        raise files.OutputError(f"export folder {export_dir!r} is a file, not a folder")
    files.ensure_output_dir(os.path.dirname(os.path.abspath(export_dir)),
                            what="the folder of export folder")
    return export_dir


def export_generator(generator: keras.Model, export_dir: str) -> str:
    """Write the generator as a SavedModel with a ``serving_default`` signature.

    Load it with plain TensorFlow: ``m = tf.saved_model.load(dir); m.generate(z)`` or
    ``m.signatures['serving_default'](z=z)['images']``. ``export_dir`` must be new or
    empty (see check_export_dir). The SavedModel is written into a hidden folder beside
    it and renamed once complete, so a stopped export leaves no half model behind.
    """
    check_export_dir(export_dir)
    module = _GeneratorModule(generator, generator.input_shape[-1])
    parent, name = os.path.split(os.path.abspath(export_dir))
    tmp = os.path.join(parent, f".{name}.{uuid.uuid4().hex[:8]}.partial")
    try:
        tf.saved_model.save(module, tmp, signatures={"serving_default": module.generate})
        if os.path.isdir(export_dir):
            os.rmdir(export_dir)          # empty (checked above): renaming onto it needs that
        os.replace(tmp, export_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return export_dir
