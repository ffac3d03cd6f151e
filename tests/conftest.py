"""Shared fixtures: tiny images made on the fly, and quiet TensorFlow."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402


def write_toy_faces(folder, count, size=(20, 24), seed=0):
    """``count`` small RGB PNGs: a coloured background with a bright square 'face'."""
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(seed)
    paths = []
    for i in range(count):
        h, w = size
        x = np.empty((h, w, 3), np.uint8)
        x[...] = rng.integers(0, 120, 3)
        top, left = rng.integers(2, 6), rng.integers(2, 6)
        x[top:top + h // 2, left:left + w // 2] = rng.integers(180, 255, 3)
        path = os.path.join(folder, f"face{i:03d}.png")
        Image.fromarray(x).save(path)
        paths.append(path)
    return paths


@pytest.fixture
def toy_dataset(tmp_path):
    folder = tmp_path / "faces"
    write_toy_faces(str(folder), 24)
    return str(folder)


@pytest.fixture(autouse=True)
def own_cache_folder(tmp_path_factory, monkeypatch):
    """Each test its own user cache folder (the remembered --precision auto choice lives
    there): no test reads the user's cache or what another test left."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))


def check_first_average_step(run, paths, trained, averaged, decay):
    """One training step of ``run`` (an engine.TrainingRun) from its start: every moving
    average in ``averaged`` is d * before + (1 - d) * after of its variable in ``trained``,
    with d = min(decay, 1 / 10), the warm-up at step 0 (engine.update_moving_average)."""
    from dcgan_completion import data
    before = [w.numpy() for w in trained]
    (positions, batch), = run.epoch_dataset(paths, 0, 0, data.BadFileReport()).take(1)
    run.train_step(positions, batch)
    d = min(decay, 1 / 10)
    for old, new, avg in zip(before, trained, averaged):
        np.testing.assert_allclose(avg.numpy(), d * old + (1 - d) * new.numpy(), atol=1e-6)
