"""Model configuration: everything needed to rebuild the networks, saved beside the weights.

A training run writes ``config.json`` into its checkpoint folder; every other command
(completion, export, evaluation) rebuilds the generator and discriminator from it, so
no flag has to be repeated and a checkpoint cannot be loaded into the wrong shapes.
"""

from __future__ import annotations

import dataclasses
import json
import os

from .files import atomic_write

CONFIG_FILE = "config.json"
SEED_MAX = 2 ** 32 - 1      # every seed of every command: what Keras and NumPy accept
DTYPE_POLICIES = ("float32", "mixed_bfloat16", "mixed_float16")   # Keras' compute precisions
UNSCALED_POLICIES = DTYPE_POLICIES[:2]   # for networks trained without loss scaling (float16 needs it)
# "auto": the faster of these, timed on the machine at hand (completion_net.inference).
AUTO_PRECISION = "auto"
AUTO_PRECISIONS = ("float32", "mixed_bfloat16")
MEASURE_PRECISION = "measure"     # auto, timed now whatever the job, and remembered
BATCH_SIZE = 64             # images completed together, by either method


class ConfigError(ValueError):
    """A model configuration that cannot describe a valid network."""


class SavedConfig:
    """What every network config saved in config.json has: a frozen dataclass with
    image_size and channels that subclasses this and names ``ERROR``, the ValueError it
    raises, and ``WHAT``, its kind in messages."""
    ERROR = ConfigError
    WHAT = "model"
    # Settings added after files were first written, with the value those files meant:
    # a saved config without the key is read with this value, not today's default.
    LEGACY: dict = {}

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return (self.image_size, self.image_size, self.channels)

    def replace(self, **changes):
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    # How a network runs, not what it is: weights move freely between these.
    RUNTIME_FIELDS = ("dtype_policy", "synchronized_bn")

    def differences(self, other) -> list[str]:
        """"name value instead of value" for each setting where ``other`` (a config of the
        same kind) describes another network than this one; [] when its weights fit."""
        return [f"{f.name} {getattr(other, f.name)} instead of {getattr(self, f.name)}"
                for f in dataclasses.fields(self) if f.name not in self.RUNTIME_FIELDS
                and getattr(other, f.name) != getattr(self, f.name)]

    @classmethod
    def from_dict(cls, values: dict):
        return config_from_dict(cls, {**cls.LEGACY, **values}, cls.ERROR, cls.WHAT)


def check_image(size, channels, error: type) -> None:
    """Raise ``error`` unless the images are S x S with S a power of two >= 8, in 1
    (grayscale) or 3 (RGB) channels: what the networks' strided layers can build."""
    if isinstance(size, bool) or not isinstance(size, int) or size < 8 or size & (size - 1):
        raise error(f"image_size must be a power of two >= 8, got {size!r}")
    if channels not in (1, 3):
        raise error(f"channels must be 1 or 3, got {channels!r}")


@dataclasses.dataclass(frozen=True)
class ModelConfig(SavedConfig):
    image_size: int = 64        # square images, a power of two >= 8
    channels: int = 3           # 1 (grayscale) or 3 (RGB)
    z_dim: int = 100            # latent size; z ~ U[-1, 1]
    gf_dim: int = 64            # generator channels at the last hidden layer
    df_dim: int = 64            # discriminator channels at the first layer
    critic_batch_norm: bool = True   # WGAN-GP drops batch norm in the critic
    synchronized_bn: bool = False    # sync batch statistics across replicas
    dtype_policy: str = "float32"    # or "mixed_bfloat16" / "mixed_float16"

    def __post_init__(self):
        check_image(self.image_size, self.channels, ConfigError)
        for name in ("z_dim", "gf_dim", "df_dim"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be positive, got {getattr(self, name)!r}")
        if self.dtype_policy not in DTYPE_POLICIES:
            raise ConfigError(f"unknown dtype_policy {self.dtype_policy!r}")


# --- config.json, shared by every kind of run folder -------------------------------------

def config_from_dict(cls, values: dict, error: type, what: str):
    """``cls(**values)`` for a config dataclass; ``error`` naming unknown keys."""
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise error(f"unknown {what} config keys: {', '.join(unknown)}")
    return cls(**values)


def write_config_file(directory: str, payload: dict) -> str:
    """Write ``payload`` as ``directory/config.json``; atomic: an interrupted write never
    leaves half a config."""
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, CONFIG_FILE)
    with atomic_write(path) as f:
        json.dump(payload, f, indent=2, sort_keys=True)
    return path


def read_config_file(directory: str, *, writer: str, what: str, error: type) -> tuple[str, dict]:
    """(path, the JSON object) of ``directory/config.json``.

    FileNotFoundError naming ``writer`` (the command that writes such folders) when there
    is none; ``error`` when it cannot be read or is not a JSON object.
    """
    path = os.path.join(directory, CONFIG_FILE)
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"{path} not found: is {directory!r} a checkpoint folder written by {writer}?")
    try:
        with open(path) as f:
            payload = json.load(f)
    except ValueError as e:          # not JSON, or not text (UnicodeDecodeError)
        raise error(f"{path} is not a valid {what} config: {type(e).__name__}: {e}") from e
    except OSError as e:
        raise error(f"{path} cannot be read: {e.strerror or e}") from e
    if not isinstance(payload, dict):
        raise error(f"{path} is not a valid {what} config: it holds a {type(payload).__name__}, "
                    "not a JSON object")
    return path, payload


def save_kind_config(directory: str, kind: str, key: str, config: SavedConfig,
                     extra: dict | None = None) -> str:
    """Write ``config.json`` = {"kind": kind, key: config, **extra}: the run folder of a
    network other than the DCGAN (a completion network, an encoder)."""
    return write_config_file(directory, {"kind": kind, key: config.to_dict(), **(extra or {})})


def load_kind_config(directory: str, cls: type, kind: str, key: str, writer: str):
    """(a ``cls`` config, the rest of the file) from a config.json that save_kind_config
    wrote. FileNotFoundError naming ``writer`` if there is none; ``cls.ERROR`` if it is
    another kind's (a DCGAN run's, say) or cannot be read."""
    path, payload = read_config_file(directory, writer=writer, what=cls.WHAT, error=cls.ERROR)
    try:
        if payload.pop("kind", None) != kind:
            raise cls.ERROR(f"it is not a {cls.WHAT} config (a DCGAN run?)")
        return cls.from_dict(payload.pop(key)), payload
    except (KeyError, TypeError, ValueError) as e:      # cls.ERROR is a ValueError
        raise cls.ERROR(f"{path} is not a valid {cls.WHAT} config: {e}") from e


def save_config(config: ModelConfig, directory: str, extra: dict | None = None) -> str:
    """Write ``config.json`` (the model config plus optional run metadata) into ``directory``."""
    return write_config_file(directory, {"model": config.to_dict(), **(extra or {})})


def load_config(directory: str) -> tuple[ModelConfig, dict]:
    """Read ``config.json`` from ``directory``; returns (model config, the rest of the file)."""
    path, payload = read_config_file(directory, writer="dcgan-train", what="model",
                                     error=ConfigError)
    try:
        return ModelConfig.from_dict(payload.pop("model")), payload
    except (ValueError, KeyError, TypeError) as e:      # ConfigError is a ValueError
        raise ConfigError(f"{path} is not a valid model config: {type(e).__name__}: {e}") from e
