"""--precision auto: the faster of the candidate precisions, timed on the machine at hand."""

import time

import numpy as np

from dcgan_completion import checkpoints, completion, precision
from dcgan_completion.config import AUTO_PRECISIONS, ModelConfig
from dcgan_completion.model import build_models

TINY = ModelConfig(image_size=16, z_dim=8, gf_dim=4, df_dim=4)


def test_fastest_keeps_the_run_that_times_faster():
    calls = {"slow": 0, "fast": 0, "first": 0, "second": 0}

    def run(name, seconds):
        def call():
            calls[name] += 1
            time.sleep(seconds)
        return call

    best, seconds = precision.fastest({"slow": run("slow", 0.05), "fast": run("fast", 0.0)},
                                      repeats=2)
    assert best == "fast" and seconds["slow"] >= 0.05 > seconds["fast"]
    assert calls["slow"] == calls["fast"] == 3                          # traced, then timed twice
    # The first is kept unless another beats it by the margin.
    same = {"first": run("first", 0.02), "second": run("second", 0.018)}
    assert precision.fastest(same, repeats=2, margin=1.5)[0] == "first"


def test_projection_step_computes_the_gradient_on_z():
    G, D = build_models(TINY)
    step = completion.projection_step(G, D, batch_size=3)
    grad = step()
    assert grad.shape == (3, TINY.z_dim) and np.isfinite(grad).all() and np.abs(grad).max() > 0
    np.testing.assert_array_equal(step(), grad)                       # the same work each call


def test_auto_dcgan_loads_the_model_in_one_of_the_precisions(tmp_path):
    G, D = build_models(TINY)
    path = checkpoints.save_weights_file(TINY, G, D, str(tmp_path / "w.npz"), dtype=np.float32)
    config, G2, D2, chosen = precision.load_fastest_dcgan(path, batch_size=2)
    assert chosen in AUTO_PRECISIONS and config.dtype_policy == chosen
    assert config.replace(dtype_policy=TINY.dtype_policy) == TINY
    assert G2.dtype_policy.name == chosen and D2.dtype_policy.name == chosen
    _, G_named, _ = checkpoints.load_model(path, chosen)
    z = np.zeros((2, TINY.z_dim), np.float32)
    np.testing.assert_array_equal(G2(z, training=False), G_named(z, training=False))
