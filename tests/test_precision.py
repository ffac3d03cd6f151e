"""--precision auto: the faster of the candidate precisions, timed on the machine at hand."""

import json
import os
import time

import numpy as np

from dcgan_completion import checkpoints, completion, precision
from dcgan_completion.config import AUTO_PRECISIONS, ModelConfig
from dcgan_completion.model import build_models

from conftest import write_toy_faces

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
    for net in (G2, D2):      # the hidden layers compute in it (a Keras Model's own policy
        # stays float32 whatever its layers', so it says nothing)
        assert chosen in {layer.dtype_policy.name for layer in net.layers if layer.weights}
    _, G_named, _ = checkpoints.load_model(path, chosen)
    z = np.zeros((2, TINY.z_dim), np.float32)
    np.testing.assert_array_equal(G2(z, training=False), G_named(z, training=False))


def tiny_weights(tmp_path, config=TINY, name="w.npz"):
    G, D = build_models(config)
    return checkpoints.save_weights_file(config, G, D, str(tmp_path / name), dtype=np.float32)


def counting_timer(monkeypatch, choice="mixed_bfloat16"):
    """precision.fastest replaced by one that says ``choice`` and counts its calls."""
    calls = []

    def fake(runs, *a, **k):
        calls.append(sorted(runs))
        return choice, {name: 0.1 for name in runs}
    monkeypatch.setattr(precision, "fastest", fake)
    return calls


def test_the_timed_choice_is_remembered_and_reused(tmp_path, monkeypatch, caplog):
    caplog.set_level("INFO")
    path = tiny_weights(tmp_path)
    calls = counting_timer(monkeypatch)
    first = precision.load_fastest_dcgan(path, batch_size=2)
    assert first[3] == "mixed_bfloat16" and len(calls) == 1
    assert os.path.isfile(precision.cache_path())
    config, G, _, chosen = precision.load_fastest_dcgan(path, batch_size=2)
    assert chosen == "mixed_bfloat16" and len(calls) == 1               # not timed again
    assert config.dtype_policy == "mixed_bfloat16"
    assert {layer.dtype_policy.name for layer in G.layers if layer.weights} == {"mixed_bfloat16"}
    assert "timed before on this machine" in caplog.text
    # measure times again, whatever is remembered.
    precision.load_fastest_dcgan(path, batch_size=2, measure=True)
    assert len(calls) == 2


def test_another_setting_is_timed_again(tmp_path, monkeypatch):
    calls = counting_timer(monkeypatch)
    path = tiny_weights(tmp_path)
    precision.load_fastest_dcgan(path, batch_size=2)
    precision.load_fastest_dcgan(path, batch_size=3)                    # another batch
    other = tiny_weights(tmp_path, TINY.replace(z_dim=12), "other.npz")  # another shape
    precision.load_fastest_dcgan(other, batch_size=2)
    assert len(calls) == 3
    assert precision.setting_key("dcgan", TINY, 2) == precision.setting_key(
        "dcgan", TINY.replace(dtype_policy="mixed_bfloat16"), 2)        # how it runs: the same
    assert precision.setting_key("dcgan", TINY, 2) != precision.setting_key("network", TINY, 2)


def test_a_damaged_cache_is_ignored_with_a_warning_and_replaced(tmp_path, monkeypatch, caplog):
    calls = counting_timer(monkeypatch)
    os.makedirs(os.path.dirname(precision.cache_path()))
    with open(precision.cache_path(), "w") as f:
        f.write('{"version": 1, "choi')
    _, _, _, chosen = precision.load_fastest_dcgan(tiny_weights(tmp_path), batch_size=2)
    assert chosen == "mixed_bfloat16" and len(calls) == 1
    assert caplog.text.count("is unreadable") >= 1 and "ignored" in caplog.text
    with open(precision.cache_path()) as f:
        assert json.load(f)["version"] == precision.CACHE_VERSION        # replaced, valid


def test_a_job_smaller_than_the_timing_is_not_timed(tmp_path, monkeypatch, caplog):
    caplog.set_level("INFO")
    calls = counting_timer(monkeypatch)
    path = tiny_weights(tmp_path)
    assert not precision.worth_timing("dcgan", 1, 40, 1)                # one face, 40 steps
    assert precision.worth_timing("dcgan", 64, 40, 64)
    _, _, _, chosen = precision.load_fastest_dcgan(path, batch_size=64, images=1, steps=40)
    assert chosen == "float32" and calls == [] and not os.path.exists(precision.cache_path())
    assert "not worth timing" in caplog.text


def test_naming_a_precision_never_reads_or_writes_the_cache(tmp_path, monkeypatch, caplog):
    from dcgan_completion.cli import complete as complete_cli
    calls = counting_timer(monkeypatch)
    os.makedirs(os.path.dirname(precision.cache_path()))
    with open(precision.cache_path(), "w") as f:
        f.write("garbage")
    faces = tmp_path / "faces"
    write_toy_faces(str(faces), 2, size=(16, 16))
    rc = complete_cli.main([str(faces), "--checkpointDir", tiny_weights(tmp_path), "--nIter", "2",
                            "--refine", "0", "--precision", "float32", "--outDir",
                            str(tmp_path / "out"), "--noProgress"])
    assert rc == 0 and calls == [] and "unreadable" not in caplog.text
    with open(precision.cache_path()) as f:
        assert f.read() == "garbage"


def test_the_network_remembers_its_choice_too(tmp_path, monkeypatch):
    from dcgan_completion.completion_net import inference
    from dcgan_completion.completion_net.networks import CompletionConfig, build_completion_net
    from dcgan_completion.completion_net.weights import save_completion_net_weights
    calls = []

    def fake(completers, batch_size, *a, **k):
        calls.append(batch_size)
        return "mixed_bfloat16", {name: 0.1 for name in completers}
    monkeypatch.setattr(inference, "fastest", fake)
    config = CompletionConfig(image_size=16, channels=3, width=4, critic_width=4)
    path = save_completion_net_weights(config, build_completion_net(config), str(tmp_path / "n.npz"))
    assert inference.load_network_completer(path, "auto", 8)[2] == "mixed_bfloat16"
    assert inference.load_network_completer(path, "auto", 8)[2] == "mixed_bfloat16"
    assert calls == [8]
    # A small job with nothing remembered for its batch: float32, untimed.
    assert inference.load_network_completer(path, "auto", 8, images=3)[2] == "float32"
    assert calls == [8]
