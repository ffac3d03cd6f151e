"""The completion network learned from measured images only: measurements, the networks,
the training step's inputs, learning, exact resume, completion, weights files and the CLI."""

import dataclasses
import json
import os
import time

import numpy as np
import pytest
import tensorflow as tf

from dcgan_completion import checkpoints, data, images
from dcgan_completion import masks as masks_lib
from dcgan_completion.cli import train_completion as cli
from dcgan_completion.completion_net import inference, measurements
from dcgan_completion.completion_net.inference import NetworkCompleter
from dcgan_completion.completion_net.networks import (CompletionConfig, build_completion_net,
                                                      build_critic, hole_window_offsets)
from dcgan_completion.completion_net.training import CompletionTrainConfig, CompletionTrainer
from dcgan_completion.completion_net.weights import load_completion_net, save_completion_net_weights

from conftest import check_first_average_step, write_toy_faces
from test_train import Record

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = CompletionConfig(image_size=16, channels=3, width=4, critic_width=4,
                        measurement="block-patch")                           # k = 7
K = 7
# 40 toy images, batch 4, 2 critic updates per step: 5 steps per epoch.
RUN = CompletionTrainConfig(epochs=3, batch_size=4, d_steps=2, learning_rate=1e-3, seed=5)


# --- measurements ----------------------------------------------------------------------------

def test_block_patch_defaults_hole_and_fill():
    m = measurements.make_measurement("block-patch", 64)
    assert (m.patch_size, m.fill) == (28, 1.0)
    assert measurements.make_measurement("block-patch", 16).patch_size == K
    x = tf.random.stateless_uniform((6, 64, 64, 3), (1, 2), -0.9, 0.9)
    y, masks = m(x, (3, 4))
    assert masks.shape == (6, 64, 64, 1) and masks.dtype == tf.float32
    y, masks, x = y.numpy(), masks.numpy(), x.numpy()
    assert set(np.unique(masks)) == {0.0, 1.0}
    for i in range(6):
        hole = np.argwhere(masks[i, ..., 0] == 0)
        assert len(hole) == 28 * 28                                          # one 28x28 square
        assert (hole.max(0) - hole.min(0) == 27).all()
    hole = np.broadcast_to(masks == 0, y.shape)
    assert (y[hole] == 1.0).all() and (y[~hole] == x[~hole]).all()
    corners = {tuple(np.argwhere(masks[i, ..., 0] == 0).min(0)) for i in range(6)}
    assert len(corners) > 1                                                  # a position per image


def test_block_pixels_and_keep_patch():
    x = tf.zeros((8, 32, 32, 1)) + 0.5
    y, masks = measurements.make_measurement("block-pixels", 32, drop_prob=0.25)(x, (0, 1))
    assert abs(1.0 - float(tf.reduce_mean(masks)) - 0.25) < 0.03
    assert float(tf.reduce_max(tf.abs(y - masks * 0.5))) == 0.0              # fill 0.0 default
    keep = measurements.make_measurement("keep-patch", 32, fill=-1.0)
    y, masks = keep(x, (0, 2))
    assert keep.patch_size == 16 and (tf.reduce_sum(masks, [1, 2, 3]).numpy() == 256).all()
    assert float(tf.reduce_min(y)) == -1.0


def test_strokes_measurement_draws_the_completions_stroke_masks():
    strokes = measurements.make_measurement("strokes", 32)
    x = tf.zeros((3, 32, 32, 3)) + 0.5
    y, m = strokes.measure_each(x, np.array([[9, i] for i in range(3)]))
    np.testing.assert_array_equal(m, masks_lib.MaskSpec("strokes", 32, seed=9).masks(3).values)
    hole = np.broadcast_to(m.numpy() == 0, y.shape)
    assert hole.any() and (y.numpy()[hole] == 0.0).all() and (y.numpy()[~hole] == 0.5).all()
    with pytest.raises(measurements.MeasurementError, match="strokes takes no patch size"):
        measurements.make_measurement("strokes", 32, patch_size=4)


def test_the_mixture_draws_every_component_at_its_proportion():
    mix = measurements.make_measurement("mix", 32)
    which = mix.components(20000, tf.constant([3, 1], tf.int64)).numpy()
    for k, (name, share) in enumerate(measurements.MIX):
        assert abs((which == k).mean() - share) < 0.015, name
    seed = tf.constant([5, 2], tf.int64)
    m = mix.sample_masks(400, seed).numpy()[..., 0]                         # (B, S, S)
    which = mix.components(400, tf.random.experimental.stateless_fold_in(seed, 0)).numpy()
    missing = 1 - m.mean(axis=(1, 2))
    names = [name for name, _ in measurements.MIX]
    half = missing[which == names.index("half")]
    assert len(half) and (half == 0.5).all()
    pixels = missing[which == names.index("pixels")]
    assert len(pixels) and pixels.min() > 0.4 and pixels.max() < 0.95
    centre = m[which == names.index("centre")]
    assert len(centre) and (centre[:, 16, 16] == 0).all() and (centre[:, 0, 0] == 1).all()
    square = missing[which == names.index("square")]
    assert square.min() >= (4 * 4) / 32 ** 2 - 1e-6 and square.max() <= (16 * 16) / 32 ** 2 + 1e-6
    assert set(np.unique(m)) == {0.0, 1.0} and (missing > 0).all()        # every image damaged
    y, masks = mix.measure_each(tf.zeros((3, 32, 32, 3)) + 0.5, np.array([[8, i] for i in range(3)]))
    np.testing.assert_array_equal(masks, mix.masks_each(np.array([[8, i] for i in range(3)])))


def test_measurements_are_reproducible_per_image_and_checked():
    m = measurements.make_measurement("block-patch", 16)
    seeds = np.array([[7, i] for i in range(5)])
    a = m.masks_each(seeds).numpy()
    np.testing.assert_array_equal(a[2:], m.masks_each(seeds[2:]).numpy())   # image i from seeds[i]
    np.testing.assert_array_equal(m.sample_masks(3, (1, 1)), m.sample_masks(3, (1, 1)))
    assert not np.array_equal(m.sample_masks(3, (1, 1)), m.sample_masks(3, (1, 2)))
    p = masks_lib.MaskSpec("patch", 64, seed=3).masks(6).values     # the holes it is evaluated on
    assert p.shape == (6, 64, 64, 1) and ((1 - p).sum((1, 2, 3)) == 784).all()
    np.testing.assert_array_equal(p[:4], masks_lib.MaskSpec("patch", 64, seed=3).masks(4).values)
    assert not np.array_equal(p, masks_lib.MaskSpec("patch", 64, seed=4).masks(6).values)
    assert ((1 - masks_lib.MaskSpec("patch", 32, patch_size=5).masks(2).values).sum((1, 2, 3)) == 25).all()
    # The evaluation's patch mask i is the training measurement's mask from the seed (seed, i).
    np.testing.assert_array_equal(p, measurements.make_measurement("block-patch", 64).masks_each(
        np.array([[3, i] for i in range(6)])).numpy())
    for bad, says in [(dict(name="nope"), "unknown measurement 'nope'"),
                      (dict(name="block-patch", patch_size=99), "patch size must be in"),
                      (dict(name="block-patch", drop_prob=0.5), "takes no drop probability"),
                      (dict(name="block-pixels", drop_prob=1.0), "drop probability must be in"),
                      (dict(name="block-pixels", patch_size=3), "takes no patch size"),
                      (dict(name="keep-patch", fill=2.0), r"fill must be in \[-1, 1\]")]:
        with pytest.raises(measurements.MeasurementError, match=says):
            measurements.make_measurement(image_size=64, **bad)


# --- the networks ------------------------------------------------------------------------------

def test_networks_keep_known_pixels_and_never_read_the_hole():
    net, critic = build_completion_net(TINY), build_critic(TINY)
    x = tf.random.stateless_uniform((3, 16, 16, 3), (0, 0), -1, 1)
    masks = TINY.make_measurement().sample_masks(3, (0, 1))
    out = net([x, masks], training=False)
    assert out.shape == (3, 16, 16, 3)
    np.testing.assert_array_equal((masks * out).numpy(), (masks * x).numpy())
    other = tf.where(masks > 0.5, x, -x)                        # different pixels under the hole
    np.testing.assert_array_equal(out, net([other, masks], training=False))
    offsets = hole_window_offsets(masks, TINY.window)
    for i in range(3):                                          # the 8x8 window holds the 7x7 hole
        top, left = np.argwhere(masks[i, ..., 0].numpy() == 0).min(0)
        row, col = offsets[i].numpy()
        assert row <= top and top + K <= row + 8 and col <= left and left + K <= col + 8
    assert critic([x, offsets]).shape == (3, 1)
    assert not any("batch_normalization" in type(layer).__name__.lower() for layer in critic.layers)



@pytest.mark.parametrize("skips", [False, True])
def test_the_network_keeps_known_pixels_on_every_mask_type(skips):
    config = CompletionConfig(image_size=16, channels=3, width=4, critic_width=4,
                              measurement="mix", skips=skips)
    net = build_completion_net(config)
    assert any("skip" in layer.name for layer in net.layers) == skips
    completer = NetworkCompleter(net)
    x = np.random.default_rng(3).integers(0, 256, (4, 16, 16, 3), dtype=np.uint8)
    for kind in ("center", "left", "random", "patch", "strokes", "grid"):
        m = masks_lib.MaskSpec(kind, 16, seed=2).masks(4).values
        out = completer.complete(x, m)
        known = np.broadcast_to(m == 1, x.shape)
        assert (out[known] == x[known]).all(), kind
        assert (~known).any() and (out[~known] != x[~known]).any(), kind


def test_bfloat16_completes_like_float32_and_auto_keeps_the_faster(tmp_path):
    trained = build_completion_net(TINY)
    path = save_completion_net_weights(TINY, trained, str(tmp_path / "net.npz"))
    x = np.random.default_rng(4).integers(0, 256, (3, 16, 16, 3), dtype=np.uint8)
    m = masks_lib.MaskSpec("center", 16).masks(3).values
    _, f32, _ = inference.load_network_completer(path, "float32")
    config, bf16, precision = inference.load_network_completer(path, "mixed_bfloat16")
    assert precision == "mixed_bfloat16" and config == TINY
    assert any(layer.dtype_policy.name == "mixed_bfloat16" for layer in bf16.net.layers)
    a, b = f32.complete(x, m), bf16.complete(x, m)
    known = np.broadcast_to(m == 1, x.shape)
    assert (b[known] == x[known]).all()                               # kept exactly
    assert np.abs(a.astype(int) - b.astype(int)).max() <= 8           # bf16: ~3 significant digits
    _, chosen, precision = inference.load_network_completer(path, batch_size=2)
    assert precision in ("float32", "mixed_bfloat16")
    np.testing.assert_array_equal(chosen.complete(x, m), a if precision == "float32" else b)


def test_fastest_keeps_the_completer_that_times_faster():
    class Sleeper:
        image_shape = (8, 8, 3)

        def __init__(self, seconds):
            self.seconds, self.calls = seconds, 0

        def complete(self, x, m, batch_size):
            assert x.shape == (batch_size, 8, 8, 3) and m.shape == (batch_size, 8, 8, 1)
            self.calls += 1
            time.sleep(self.seconds)

    slow, fast = Sleeper(0.05), Sleeper(0.0)
    assert inference.fastest({"slow": slow, "fast": fast}, batch_size=2, repeats=2)[0] == "fast"
    assert slow.calls == fast.calls == 3                              # traced, then timed twice


def test_a_weights_file_from_before_skips_and_prefill_still_loads(tmp_path):
    """Files written before ``skips`` and ``prefill`` existed hold no such keys: neither."""
    before = TINY.replace(skips=False, prefill="constant")
    net = build_completion_net(before)
    old = {k: v for k, v in before.to_dict().items() if k not in ("skips", "prefill")}
    arrays = {w.path: np.asarray(w.numpy(), np.float16) for w in net.weights}
    path = checkpoints.write_weights_file(str(tmp_path / "old.npz"), arrays,
                                          {"kind": "completion-net", **old})
    config, loaded = load_completion_net(path)
    assert config == before and TINY.skips and TINY.prefill == "push-pull"   # today's defaults
    x = tf.random.stateless_uniform((2, 16, 16, 3), (0, 0), -1, 1)
    m = TINY.make_measurement().sample_masks(2, (0, 1))
    np.testing.assert_allclose(loaded([x, m]), net([x, m]), atol=0.02)
    with pytest.raises(ValueError, match="skips must be true or false"):
        CompletionConfig(skips="yes")
    with pytest.raises(ValueError, match="prefill must be one of constant, push-pull"):
        CompletionConfig(prefill="zeros")


def test_push_pull_interpolates_the_known_pixels_only():
    from dcgan_completion.completion_net.networks import PushPullFill
    fill = PushPullFill()
    ramp = tf.reshape(tf.linspace(-1.0, 1.0, 32), (1, 1, 32, 1)) * tf.ones((2, 32, 32, 3))
    m = tf.constant(masks_lib.MaskSpec("random", 32, fraction=0.8).masks(2).values)
    out = fill(ramp, m)
    np.testing.assert_array_equal((m * out).numpy(), (m * ramp).numpy())     # known kept
    np.testing.assert_array_equal(out, fill(tf.where(m > 0.5, ramp, 5.0), m))   # hole unread
    assert float(tf.reduce_max(tf.abs(out - ramp))) < 0.25                   # a smooth guess
    assert float(tf.reduce_mean(tf.abs(out - ramp))) < 0.05
    left = tf.constant(masks_lib.MaskSpec("left", 32).masks(2).values)
    assert np.isfinite(fill(ramp, left).numpy()).all()                        # big holes too
    np.testing.assert_array_equal(fill(ramp, tf.zeros((2, 32, 32, 1))), tf.zeros((2, 32, 32, 3)))
    np.testing.assert_array_equal(fill(ramp, tf.ones((2, 32, 32, 1))), ramp)

# --- training ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def faces(tmp_path_factory):
    folder = tmp_path_factory.mktemp("faces")
    write_toy_faces(str(folder), 40)
    return data.find_training_images(str(folder))


@pytest.fixture(scope="module")
def straight_run(faces, tmp_path_factory):
    """An uninterrupted run of RUN that records every step's inputs and metrics."""
    ckpt = str(tmp_path_factory.mktemp("straight"))
    trainer = CompletionTrainer(TINY, RUN, ckpt)
    fed, step = [], trainer.run.train_step

    def recording_step(positions, real):
        fed.append((positions, real))
        return step(positions, real)

    trainer.run.train_step = recording_step
    rec = Record()
    trainer.run.fit(faces, [rec])
    return trainer, rec, fed, ckpt


def test_the_training_step_only_ever_receives_measured_images(straight_run, faces):
    trainer, rec, fed, _ = straight_run
    assert len(fed) == 15 == len(rec.steps)
    # The clean batches the pipeline read, epoch by epoch, to compare with what was fed.
    clean = [x.numpy() for epoch in range(3) for _, x in data.make_epoch_dataset(
        faces, image_size=16, channels=3, batch_size=8, seed=RUN.seed, epoch=epoch)]
    assert len(clean) == len(fed)
    for (positions, real), x in zip(fed, clean):
        assert isinstance(real, tuple) and len(real) == 2        # (y, M): nothing else is fed
        y, masks = real[0].numpy(), real[1].numpy()
        assert y.shape == x.shape == (8, 16, 16, 3) and masks.shape == (8, 16, 16, 1)
        assert ((1 - masks).sum((1, 2, 3)) == K * K).all()       # every image has its hole
        np.testing.assert_array_equal(y, np.where(masks == 1, x, 1.0))   # y = M x + (1 - M) 1
        assert all((y[i] != x[i]).any() for i in range(8))      # ... and never the clean x


def test_training_lowers_the_critic_loss(straight_run):
    _, rec, _, _ = straight_run
    steps = [rec.steps[s] for s in sorted(rec.steps)]
    assert all(np.isfinite(list(m.values())).all() for m in steps)
    # The critic's objective L_D + 10 GP: the untrained critic has gradient norm ~0 (GP ~1).
    total = [m["d_loss"] + 10.0 * m["gp"] for m in steps]
    assert np.mean(total[-3:]) < 0.3 * np.mean(total[:3]), total
    assert steps[0]["gp"] > 0.5 > steps[-1]["gp"]               # the penalty does constrain it


def test_the_reconstruction_term_is_learned_from_known_pixels_only(straight_run):
    _, rec, _, _ = straight_run
    values = [rec.steps[s]["rec"] for s in sorted(rec.steps)]
    assert all(v > 0 for v in values)
    assert np.mean(values[-3:]) < 0.8 * np.mean(values[:3]), values


def test_adversarial_only_in_bfloat16_and_the_loaded_net_is_float32(faces, tmp_path):
    config = TINY.replace(dtype_policy="mixed_bfloat16")
    run = CompletionTrainConfig(epochs=1, batch_size=4, d_steps=2, rec_weight=0.0, seed=1)
    trainer, record = CompletionTrainer(config, run, str(tmp_path)), Record()
    assert trainer.net.get_layer("enc1").compute_dtype == "bfloat16"
    trainer.run.fit(faces, [record])
    assert len(record.steps) == 5
    assert all(m["rec"] == 0.0 and np.isfinite(list(m.values())).all()
               for m in record.steps.values())
    loaded_config, net = load_completion_net(str(tmp_path))
    assert loaded_config == config and net.get_layer("enc1").compute_dtype == "float32"
    x = np.random.default_rng(1).integers(0, 256, (2, 16, 16, 3), dtype=np.uint8)
    masks = masks_lib.MaskSpec("patch", 16).masks(2).values
    out = NetworkCompleter(net).complete(x, masks)
    known = np.broadcast_to(masks == 1, x.shape)
    assert (out[known] == x[known]).all()
    with pytest.raises(ValueError, match="dtype_policy"):
        TINY.replace(dtype_policy="mixed_float16")
    with pytest.raises(ValueError, match="rec_weight"):
        CompletionTrainConfig(rec_weight=-1.0)


def test_interrupted_and_resumed_run_matches_an_uninterrupted_one(straight_run, faces, tmp_path):
    straight_trainer, straight, _, _ = straight_run
    first = Record(stop_at=7)                                    # in the middle of epoch 2
    with pytest.raises(KeyboardInterrupt, match="stop at step 7"):
        CompletionTrainer(TINY, RUN, str(tmp_path)).run.fit(faces, [first])
    resumed_trainer = CompletionTrainer(TINY, RUN, str(tmp_path))
    assert resumed_trainer.run.restore() and int(resumed_trainer.run.step.numpy()) == 7
    resumed = Record()
    resumed_trainer.run.fit(faces, [resumed])
    assert sorted(resumed.steps) == list(range(8, 16))
    for step in resumed.steps:
        for name, value in straight.steps[step].items():
            assert resumed.steps[step][name] == pytest.approx(value, rel=1e-4, abs=1e-5), (step, name)
    y = TINY.make_measurement()(tf.zeros((2, 16, 16, 3)), (0, 0))
    np.testing.assert_allclose(resumed_trainer.complete(*y), straight_trainer.complete(*y), atol=1e-5)


def test_completion_keeps_known_pixels_and_weights_round_trip(straight_run, tmp_path):
    trainer, _, _, ckpt = straight_run
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (5, 16, 16, 3), dtype=np.uint8)
    masks = masks_lib.MaskSpec("patch", 16, seed=1).masks(5).values
    config, net = load_completion_net(ckpt)
    assert config == TINY
    out = NetworkCompleter(net).complete(x, masks, batch_size=2)
    assert out.dtype == np.uint8 and out.shape == x.shape
    known = np.broadcast_to(masks == 1, x.shape)
    assert (out[known] == x[known]).all() and (out[~known] != x[~known]).any()
    np.testing.assert_array_equal(out, NetworkCompleter(trainer.net).complete(x, masks))
    path = save_completion_net_weights(config, net, str(tmp_path / "net.npz"))
    config2, net2 = load_completion_net(path)
    assert config2 == config
    out2 = NetworkCompleter(net2).complete(x, masks)
    assert np.abs(out2.astype(int) - out.astype(int)).max() <= 2   # float16 weights
    with pytest.raises(checkpoints.CheckpointError, match="missing' is neither a checkpoint folder"):
        load_completion_net(str(tmp_path / "missing"))



def test_the_networks_moving_average_follows_it_and_is_what_samples_export_and_loading_use(
        faces, tmp_path):
    """ema > 0: every weight of the network (batch-norm statistics too) is averaged after
    each step, ema <- d ema + (1 - d) net with d = min(decay, (1 + step) / (10 + step)); the
    average is the run's network for samples (complete), --export_weights, a loaded run
    folder and dcgan-export, and a resumed run gets it back."""
    for bad in (1.0, -0.1, float("nan"), None):
        with pytest.raises(ValueError, match="ema must be a finite number"):
            CompletionTrainConfig(ema=bad)
    assert RUN.ema == 0.0 and CompletionTrainer(TINY, RUN, str(tmp_path / "plain")).net_ema is None
    run, ckpt = dataclasses.replace(RUN, epochs=1, ema=0.9), str(tmp_path / "ckpt")
    trainer = CompletionTrainer(TINY, run, ckpt)
    net, ema = trainer.net, trainer.net_ema
    assert trainer.final_net is ema
    for a, b in zip(net.get_weights(), ema.get_weights()):                # starts at the net
        np.testing.assert_array_equal(a, b)
    check_first_average_step(trainer.run, faces, net.weights, ema.weights, 0.9)
    trainer.run.fit(faces, [])
    y, m = TINY.make_measurement()(tf.random.uniform((2, 16, 16, 3), -1, 1, seed=1), (0, 0))
    assert not np.allclose(net([y, m], training=False), ema([y, m], training=False))
    np.testing.assert_array_equal(trainer.complete(y, m), ema([y, m], training=False))
    config, loaded = load_completion_net(ckpt)                 # a run folder: its average
    np.testing.assert_allclose(loaded([y, m], training=False), ema([y, m], training=False),
                               atol=1e-6)
    resumed = CompletionTrainer(TINY, run, ckpt)
    assert resumed.run.restore()
    for a, b in zip(resumed.net_ema.get_weights(), ema.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_cli_ema_exports_the_average(faces, tmp_path):
    dataset, run = os.path.dirname(faces[0]), tmp_path / "run"
    assert cli.main(cli_args(dataset, run, "--epoch", "1", "--ema", "0.5",
                             "--export_weights", str(run / "net.npz"))) == 0
    assert json.load(open(run / "ckpt" / "config.json"))["train"]["ema"] == 0.5
    exported, folder = load_completion_net(str(run / "net.npz"))[1], load_completion_net(str(run / "ckpt"))[1]
    for a, b in zip(exported.get_weights(), folder.get_weights()):      # float16 in the file
        np.testing.assert_allclose(a, b, atol=2e-3, rtol=2e-3)
    saved = checkpoints.saved_objects(tf.train.latest_checkpoint(str(run / "ckpt")))
    assert {"completion_net", "completion_net_ema"} <= saved


def test_a_completer_checks_its_inputs_and_keeps_fully_known_images():
    completer = NetworkCompleter(build_completion_net(TINY))
    x = np.random.default_rng(2).integers(0, 256, (3, 16, 16, 3), dtype=np.uint8)
    known = np.ones((3, 16, 16, 1), np.float32)
    with pytest.raises(ValueError, match="images must be uint8"):
        completer.complete(x.astype(np.float32), known)
    with pytest.raises(ValueError, match="images are 8x8x3 but the network completes 16x16x3"):
        completer.complete(x[:, :8, :8], known)
    with pytest.raises(ValueError, match=r"masks must be \(B, H, W, 1\)"):
        completer.complete(x, known[:2])
    with pytest.raises(ValueError, match="batch_size must be at least 1"):
        completer.complete(x, known, batch_size=0)
    np.testing.assert_array_equal(completer.complete(x, known, batch_size=2), x)
    assert completer.complete(x[:0], known[:0]).shape == (0, 16, 16, 3)

# --- the CLI -------------------------------------------------------------------------------------

def cli_args(dataset, run, *extra):
    return ["--dataset", dataset, "--image_size", "16", "--width", "4", "--critic_width", "4",
            "--batch_size", "4", "--d_steps", "1", "--checkpoint_dir", str(run / "ckpt"),
            "--sample_dir", str(run / "samples"), "--log_dir", str(run / "logs"),
            "--no_progress", *extra]


def test_cli_trains_writes_checkpoint_samples_logs_and_refuses_conflicts(faces, tmp_path, caplog):
    dataset, run = os.path.dirname(faces[0]), tmp_path / "run"
    assert cli.main(cli_args(dataset, run, "--epoch", "1", "--sample_every", "4",
                             "--export_weights", str(run / "net.npz"))) == 0
    assert sorted(os.listdir(run / "samples")) == [f"train_{s:08d}.png" for s in (4, 8, 10)]
    from dcgan_completion.cli import plot_losses
    assert {"d_loss", "g_loss", "rec", "gp"} <= set(plot_losses.read_scalars(str(run / "logs")))
    assert plot_losses.main([str(run / "logs"), str(run / "losses.png"), "--smooth", "1"]) == 0
    assert tf.train.latest_checkpoint(str(run / "ckpt")).endswith("ckpt-10")
    saved = json.load(open(run / "ckpt" / "config.json"))
    assert saved["kind"] == "completion-net" and saved["completion_net"]["width"] == 4
    assert saved["train"]["loss"] == "wgan-gp" and saved["train"]["gp_weight"] == 10.0
    assert load_completion_net(str(run / "net.npz"))[0].image_size == 16
    from dcgan_completion.cli import export
    assert export.main(["--checkpoint_dir", str(run / "ckpt"), "--out", str(run / "e.npz"),
                        "--weights"]) == 0
    assert load_completion_net(str(run / "e.npz"))[0] == load_completion_net(str(run / "net.npz"))[0]
    assert export.main(["--checkpoint_dir", str(run / "ckpt"), "--out", str(run / "e.npz"),
                        "--weights"]) == 2                      # never overwrites
    assert export.main(["--checkpoint_dir", str(run / "ckpt"), "--out", str(run / "sm")]) == 2
    assert cli.main(cli_args(dataset, run, "--measurement", "block-pixels")) == 2
    assert "other settings" in caplog.text
    assert cli.main(cli_args(dataset, tmp_path / "new", "--drop_prob", "0.3")) == 2
    assert os.access(os.path.join(ROOT, "train-completion-net.py"), os.X_OK)


def test_a_new_run_starts_its_network_from_a_smaller_networks_weights(faces, tmp_path):
    # The 16x16 source, with batch-norm statistics of its own, written as --export_weights does.
    source = build_completion_net(TINY)
    rng = np.random.default_rng(3)
    for w in source.weights:
        w.assign(rng.uniform(0.5, 1.5, w.shape) if "moving" in w.path else w.numpy())
    weights = save_completion_net_weights(TINY, source, str(tmp_path / "net16.npz"))
    arrays, _ = checkpoints.read_weights_file(weights)                   # float16, as exported
    assert CompletionConfig(width=4, critic_width=8, measurement="strokes").network_differences(
        TINY) == []                     # the size, the critic and the measurement are not the net's
    assert TINY.network_differences(TINY.replace(width=8, skips=False)) == [
        "width 8 instead of 4", "skips False instead of True"]

    big = TINY.replace(image_size=32, measurement="mix")
    trainer = CompletionTrainer(big, dataclasses.replace(RUN, init_from=weights),
                                str(tmp_path / "r"))
    assert not trainer.run.restore()
    assert any((w.numpy() != arrays[w.path]).any() for w in trainer.net.weights)
    trainer.start_new_run()
    assert sorted(w.path for w in trainer.net.weights) == sorted(arrays)
    for w in trainer.net.weights:                                # step 0: the file's weights
        np.testing.assert_array_equal(w.numpy(), arrays[w.path].astype(np.float32), w.path)
    assert not trainer.g_optimizer.iterations.numpy()
    x = np.random.default_rng(4).integers(0, 256, (3, 32, 32, 3), dtype=np.uint8)
    masks = masks_lib.MaskSpec("patch", 32, seed=2).masks(3).values
    out = NetworkCompleter(trainer.net).complete(x, masks)       # the 16x16 weights at 32x32
    known = np.broadcast_to(masks == 1, x.shape)
    assert out.shape == x.shape and (out[known] == x[known]).all()
    assert (out[~known] != x[~known]).any()
    with pytest.raises(ValueError, match="init_from must be a weights file's path"):
        CompletionTrainConfig(init_from=None)


def test_cli_init_from_logs_refuses_another_network_and_is_not_read_on_resume(
        faces, tmp_path, caplog):
    dataset, run = os.path.dirname(faces[0]), tmp_path / "run"
    weights = save_completion_net_weights(TINY, build_completion_net(TINY), str(tmp_path / "n.npz"))
    caplog.set_level("INFO")

    def main(folder, *extra):
        return cli.main(cli_args(dataset, folder, "--image_size", "32", "--train_size", "8",
                                 "--sample_every", "100", *extra))

    # Refused before training, naming the file, the flag and what differs; no folder left.
    for source, says in [(weights, f"{weights} holds another network than this run trains: "
                                   "width 4 instead of 8 (--init_from WEIGHTS"),
                         ("bundled", "completion-net-celeba-64.npz holds another network than "
                                     "this run trains: width 32 instead of 8 (--init_from"),
                         (checkpoints.BUNDLED_WEIGHTS, f"{checkpoints.BUNDLED_WEIGHTS} holds "
                                                       "no completion network (a DCGAN's"),
                         (str(tmp_path / "no.npz"), "no.npz' is neither a checkpoint folder nor "
                                                    "a weights file (--init_from"),
                         (__file__, "is not a dcgan-completion weights file")]:
        caplog.clear()
        assert main(tmp_path / "wide", "--width", "8", "--init_from", source) == 2, source
        assert says in caplog.text and "nothing was trained" in caplog.text, caplog.text
        assert "Traceback" not in caplog.text and not (tmp_path / "wide").exists()

    caplog.clear()
    assert main(run, "--epoch", "1", "--init_from", os.path.relpath(weights)) == 0
    assert (f"the network starts from the weights of {weights}, trained at 16x16, for this "
            "32x32 run") in caplog.text
    saved = json.load(open(run / "ckpt" / "config.json"))
    assert saved["train"]["init_from"] == weights and saved["completion_net"]["image_size"] == 32
    assert tf.train.latest_checkpoint(str(run / "ckpt")).endswith("ckpt-2")
    # On resume the checkpoint wins: the file is not read again, even when it is gone.
    os.remove(weights)
    caplog.clear()
    assert main(run, "--epoch", "2", "--init_from", weights) == 0
    assert "resumed from" in caplog.text and "at step 2" in caplog.text
    assert "starts from the weights" not in caplog.text
    assert tf.train.latest_checkpoint(str(run / "ckpt")).endswith("ckpt-4")
    assert main(run, "--epoch", "3") == 0                         # the saved setting needs no flag
    assert main(run, "--epoch", "4", "--init_from", "bundled") == 2
    assert "other settings: --init_from bundled" in caplog.text
    # A run folder works too, and weights move down in size as well as up.
    again = CompletionTrainer(TINY.replace(measurement="mix"), dataclasses.replace(
        RUN, init_from=str(run / "ckpt")), str(tmp_path / "again"))
    again.start_new_run()
    _, saved_net = load_completion_net(str(run / "ckpt"))
    for mine, theirs in zip(again.net.get_weights(), saved_net.get_weights()):
        np.testing.assert_array_equal(mine, theirs)


def test_complete_and_evaluate_with_the_network(tmp_path):
    # ./complete.py --method network and dcgan-evaluate's network method and patch mask.
    from dcgan_completion.cli import complete as complete_cli
    from dcgan_completion.cli import evaluate as evaluate_cli
    weights = save_completion_net_weights(TINY, build_completion_net(TINY), str(tmp_path / "n.npz"))
    faces = write_toy_faces(str(tmp_path / "faces"), 3, size=(16, 16))
    out = tmp_path / "out"
    assert complete_cli.main(["--method", "network", "--checkpointDir", weights, "--maskType",
                              "patch", "--outDir", str(out), "--batchSize", "2", *faces]) == 0
    assert sorted(os.listdir(out / "completed")) == ["face000.png", "face001.png", "face002.png"]
    assert sorted(os.listdir(out / "batch001")) == ["completed.png", "input.png", "masked.png"]
    done = images.load_image(str(out / "completed" / "face000.png"))
    m = masks_lib.MaskSpec("patch", 16).for_index(0)
    np.testing.assert_array_equal(done[m[..., 0] > 0], images.load_image(faces[0])[m[..., 0] > 0])
    assert complete_cli.main(["--method", "network", "--checkpointDir", str(tmp_path / "none"),
                              "--outDir", str(tmp_path / "o2"), *faces]) == 2
    # One rule for both commands: a network fills holes, and lowres masks know no pixel.
    assert complete_cli.main(["--method", "network", "--checkpointDir", weights, "--maskType",
                              "lowres", "--outDir", str(tmp_path / "o3"), *faces]) == 2
    assert not os.path.exists(tmp_path / "o3")
    ev = tmp_path / "eval"
    assert evaluate_cli.main([str(tmp_path / "faces"), "--networkDir", weights, "--methods",
                              "network", "telea", "--masks", "patch", "center", "lowres",
                              "--outDir", str(ev), "--noProgress"]) == 0
    summary = json.load(open(ev / "results.json"))["summary"]
    assert set(summary["patch"]) == {"network", "telea"} and set(summary["lowres"]) == {"telea"}
    # OpenCV alone takes the image size from the (bundled) model.
    assert evaluate_cli.main([str(tmp_path / "faces"), "--methods", "navier-stokes", "--masks",
                              "center", "--outDir", str(tmp_path / "ev2"), "--noProgress"]) == 0


def fills_toy_faces(tmp_path, net, size: int, mask_type: str):
    """Two toy faces of ``size`` written to tmp_path/faces and completed by ``net``, which
    must keep every known pixel and fill the hole (not leave the grey fill): (paths,
    images, masks, completions)."""
    faces = write_toy_faces(str(tmp_path / "faces"), 2, size=(size, size))
    x = np.stack([images.load_image(f) for f in faces])
    m = masks_lib.MaskSpec(mask_type, size).masks(2).values
    out = NetworkCompleter(net).complete(x, m)
    known = np.broadcast_to(m == 1, x.shape)
    assert (out[known] == x[known]).all() and (out[~known] != 128).any()
    return faces, x, m, out


def test_the_bundled_network_is_the_default(tmp_path):
    from dcgan_completion.cli import complete as complete_cli
    from dcgan_completion.completion_net.weights import BUNDLED_NETWORK, bundled_network_available
    assert bundled_network_available() and os.path.getsize(BUNDLED_NETWORK) < 10 * 2**20
    config, net = load_completion_net()
    assert config.image_shape == (64, 64, 3) and config.measurement == "mix"
    assert config.skips and config.prefill == "push-pull"
    faces, x, m, out = fills_toy_faces(tmp_path, net, 64, "patch")
    np.testing.assert_array_equal(out, NetworkCompleter(load_completion_net()[1]).complete(x, m))
    assert complete_cli.main(["--method", "network", "--outDir", str(tmp_path / "out"), *faces]) == 0
    assert sorted(os.listdir(tmp_path / "out" / "completed")) == ["face000.png", "face001.png"]


def test_the_bundled_128_network_completes_128_px_faces(tmp_path):
    """The 128-px network ships beside the 64-px one (docs/completion-net-card-128.md): the
    same network at 128 px, and an aligned 128x128 input of --method network gets it."""
    from dcgan_completion.cli import complete as complete_cli
    from dcgan_completion.completion_net.weights import bundled_networks
    path = bundled_networks().get(128)
    assert path is not None and os.path.getsize(path) < 10 * 2**20
    config, net = load_completion_net(path)
    config64, _ = load_completion_net()
    assert config.image_shape == (128, 128, 3)
    assert not config64.network_differences(config)      # the 64-px network's settings
    faces, *_ = fills_toy_faces(tmp_path, net, 128, "center")
    out_dir = tmp_path / "out"
    assert complete_cli.main(["--method", "network", "--outDir", str(out_dir), *faces]) == 0
    completed = images.load_image(str(out_dir / "completed" / "face000.png"))
    assert completed.shape == (128, 128, 3)
    rows = (out_dir / "inputs.csv").read_text().splitlines()
    assert rows[0].split(",")[-1] == "model_size" and rows[1].endswith(",128")


def test_detail_gives_the_network_fills_the_face_models_fine_detail(tmp_path, caplog):
    """--method network --detail: each fill takes the high frequencies of the bundled DCGAN
    of its side, found on the prior's sphere from its encoder's z (completion.add_detail)."""
    import logging

    import cv2

    from dcgan_completion import completion
    from dcgan_completion.blend import blend_frames, matched_gain, two_scale
    from dcgan_completion.checkpoints import load_model, start_encoder
    from dcgan_completion.cli import complete as complete_cli
    from dcgan_completion.completion_net.inference import DetailedCompleter
    from dcgan_completion.encoder import encode
    net = NetworkCompleter(load_completion_net()[1])
    config, G, D = load_model(None)
    E, _ = start_encoder(None, config, "encoder")
    settings = completion.default_settings("encoder")
    faces, x, m, plain = fills_toy_faces(tmp_path, net.net, 64, "center")
    detailed = DetailedCompleter(net, G, D, E, settings).complete(x, m)
    known = np.broadcast_to(m > 0.5, x.shape)
    np.testing.assert_array_equal(detailed[known], x[known])             # known pixels kept
    assert not np.array_equal(detailed, plain)
    z = encode(E, x, m)
    np.testing.assert_array_equal(detailed, completion.add_detail(
        x, m, plain, G, D, z, settings, steps=completion.NETWORK_DETAIL_ITER))
    # Without iterations the detail is G's image at the encoder's z moved onto the sphere.
    sharp = completion.to_uint8(G(completion.onto_sphere(z, completion.prior_radius(z.shape[-1])),
                                  training=False))
    np.testing.assert_array_equal(completion.add_detail(x, m, plain, G, D, z, settings, steps=0),
                                  blend_frames(x, m, two_scale(plain, sharp, settings["detail_sigma"],
                                                               matched_gain(x, m, sharp, settings["detail_sigma"],
                                                                            ring=round(completion.DETAIL_RING * 64),
                                                                            limits=completion.DETAIL_GAIN_LIMITS))[None],
                                               settings["blend"])[0])
    # The fill's coarse content stays the network's: its blurred hole moves less than the
    # fine detail does.
    hole = ~known
    def low(p):
        return np.stack([cv2.GaussianBlur(q.astype(np.float32), (0, 0), 3.0) for q in p])
    assert np.abs(low(detailed) - low(plain))[hole].mean() < \
        np.abs(detailed.astype(float) - plain)[hole].mean()
    with pytest.raises(ValueError, match="has none"):
        DetailedCompleter(net, G, D, None, settings)
    with caplog.at_level(logging.INFO):
        assert complete_cli.main(["--method", "network", "--detail", "--precision", "float32",
                                  "--outDir", str(tmp_path / "out"), *faces]) == 0
    assert "the completion network, with the face model's detail" in caplog.text
    assert sorted(os.listdir(tmp_path / "out" / "completed")) == ["face000.png", "face001.png"]
