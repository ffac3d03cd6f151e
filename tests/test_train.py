"""Training: the pipeline, the loop, exact resume, the CLI, export and a two-worker run."""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf

from dcgan_completion import callbacks, checkpoints, data
from dcgan_completion.cli import train as train_cli
from dcgan_completion.config import ModelConfig
from dcgan_completion.model import sample_z
from dcgan_completion.train import GANTrainer, TrainConfig

from conftest import write_toy_faces

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = ModelConfig(image_size=16, channels=3, z_dim=16, gf_dim=8, df_dim=8)


class Record(callbacks.Callback):
    """Keeps every step's metrics; optionally interrupts like Ctrl-C after ``stop_at``."""

    def __init__(self, stop_at=None):
        self.steps, self.stop_at = {}, stop_at

    def on_step_end(self, run, step, metrics):
        self.steps[step] = {k: float(v) for k, v in metrics.items()}
        if step == self.stop_at:
            raise KeyboardInterrupt(f"Record: stop at step {step}")


def tiny_cli_args(dataset, run, *extra):
    return ["--dataset", dataset, "--image_size", "16", "--gf_dim", "8", "--df_dim", "8",
            "--z_dim", "16", "--batch_size", "8", "--checkpoint_dir", str(run / "ckpt"),
            "--sample_dir", str(run / "samples"), "--log_dir", str(run / "logs"),
            "--no_progress", *extra]


# --- input pipeline ----------------------------------------------------------------------

def test_pipeline_converts_sizes_and_modes(tmp_path):
    from PIL import Image
    Image.new("L", (30, 10), 200).save(tmp_path / "gray.png")
    Image.new("P", (9, 9), 3).save(tmp_path / "palette.png")
    Image.new("RGBA", (40, 40), (255, 0, 0, 128)).save(tmp_path / "rgba.png")
    (tmp_path / "sub").mkdir()
    Image.new("RGB", (12, 20), (0, 255, 0)).save(tmp_path / "sub" / "x.webp")
    paths = data.find_training_images(str(tmp_path))
    assert len(paths) == 4
    for channels in (1, 3):
        ds = data.make_epoch_dataset(paths, image_size=16, channels=channels, batch_size=4,
                                     seed=0, epoch=0, flip=False)
        (positions, batch), = list(ds)
        assert batch.shape == (4, 16, 16, channels)
        assert -1.0 <= float(tf.reduce_min(batch)) and float(tf.reduce_max(batch)) <= 1.0
        assert sorted(positions.numpy()) == [0, 1, 2, 3]


def test_epochs_are_reshuffled_and_reproducible():
    a, b = data.epoch_order(50, seed=1, epoch=0), data.epoch_order(50, seed=1, epoch=1)
    assert sorted(a) == list(range(50)) and not np.array_equal(a, b)
    np.testing.assert_array_equal(a, data.epoch_order(50, seed=1, epoch=0))


def test_bad_files_are_skipped_and_named(tmp_path):
    folder = tmp_path / "faces"
    write_toy_faces(str(folder), 10)
    (folder / "garbage.jpg").write_bytes(b"this is not a jpeg")
    good = (folder / "face000.png").read_bytes()
    (folder / "truncated.png").write_bytes(good[: len(good) // 2])   # header fine, data cut
    report = data.BadFileReport()
    paths = data.find_training_images(str(folder), report=report)
    assert str(folder / "garbage.jpg") in report.reasons
    ds = data.make_epoch_dataset(paths, image_size=16, channels=3, batch_size=1, seed=0,
                                 epoch=0, report=report)
    assert len(list(ds)) == 10                       # every good file, none of the bad
    assert set(report.reasons) == {str(folder / "garbage.jpg"), str(folder / "truncated.png")}
    assert "truncated.png" in report.reasons[str(folder / "truncated.png")]


@pytest.mark.parametrize("setup,message", [
    ("missing", "does not exist"), ("empty", "no images found"), ("few", "fewer than one batch")])
def test_cli_refuses_unusable_datasets(tmp_path, caplog, setup, message):
    dataset = tmp_path / "data"
    if setup != "missing":
        dataset.mkdir()
    if setup == "few":
        write_toy_faces(str(dataset), 3)
    assert train_cli.main(tiny_cli_args(str(dataset), tmp_path)) == 2
    assert message in caplog.text
    assert not (tmp_path / "ckpt").exists()


# --- the loop ------------------------------------------------------------------------------

@pytest.mark.parametrize("loss", ["dcgan", "wgan", "wgan-gp", "hinge"])
def test_every_loss_trains_and_checkpoints(tmp_path, toy_dataset, loss):
    trainer = GANTrainer(TINY, TrainConfig(loss=loss, epochs=1, batch_size=4), str(tmp_path))
    rec = Record()
    trainer.run.fit(data.find_training_images(toy_dataset), [rec])
    steps_per_epoch = 24 // (4 * trainer.train_config.d_steps)
    assert int(trainer.run.step.numpy()) == steps_per_epoch == len(rec.steps)
    assert all(np.isfinite(list(m.values())).all() for m in rec.steps.values())
    assert tf.train.latest_checkpoint(str(tmp_path)).endswith(f"ckpt-{steps_per_epoch}")
    if loss == "wgan":   # the critic's weights really are clipped
        assert max(float(tf.reduce_max(tf.abs(v))) for v in
                   trainer.discriminator.trainable_variables) <= 0.01 + 1e-7
    if loss == "wgan-gp":
        assert trainer.model_config.critic_batch_norm is False


def test_training_lowers_the_discriminator_loss(tmp_path, toy_dataset):
    # D alone learns to tell the toy faces from an untrained G's output.
    cfg = TrainConfig(epochs=16, batch_size=8, g_steps=1, learning_rate=1e-3)
    trainer = GANTrainer(TINY, cfg, str(tmp_path))
    rec = Record()
    trainer.run.fit(data.find_training_images(toy_dataset), [rec])
    d = [rec.steps[s]["d_loss"] for s in sorted(rec.steps)]
    assert np.mean(d[-3:]) < 0.8 * np.mean(d[:3]), d


def test_interrupted_and_resumed_run_matches_an_uninterrupted_one(tmp_path, toy_dataset):
    paths = data.find_training_images(toy_dataset)
    cfg = TrainConfig(epochs=3, batch_size=8, seed=5)         # 3 steps per epoch, 9 in all
    straight = Record()
    GANTrainer(TINY, cfg, str(tmp_path / "a")).run.fit(paths, [straight])

    first = Record(stop_at=4)                                 # stop in the middle of epoch 2
    with pytest.raises(KeyboardInterrupt, match="stop at step 4"):
        GANTrainer(TINY, cfg, str(tmp_path / "b")).run.fit(paths, [first])
    resumed_trainer = GANTrainer(TINY, cfg, str(tmp_path / "b"))   # a fresh process's view
    assert resumed_trainer.run.restore() and int(resumed_trainer.run.step.numpy()) == 4
    resumed = Record()
    resumed_trainer.run.fit(paths, [resumed])

    assert sorted(resumed.steps) == [5, 6, 7, 8, 9]
    for step in resumed.steps:
        for name, value in straight.steps[step].items():
            assert resumed.steps[step][name] == pytest.approx(value, rel=1e-5, abs=1e-6), (step, name)
    z = sample_z(4, TINY.z_dim, (0, 1))
    ga = checkpoints.load_models(str(tmp_path / "a"))[1](z, training=False)
    gb = resumed_trainer.generator(z, training=False)
    np.testing.assert_allclose(ga, gb, atol=1e-5)


# --- the CLI -------------------------------------------------------------------------------

def test_cli_trains_writes_samples_logs_and_resumes(tmp_path, toy_dataset):
    run = tmp_path / "run"
    assert train_cli.main(tiny_cli_args(toy_dataset, run, "--epoch", "1",
                                        "--sample_every", "2")) == 0
    assert sorted(os.listdir(run / "samples")) == ["train_00000002.png", "train_00000003.png"]
    assert os.listdir(run / "logs")
    from dcgan_completion.cli import plot_losses
    assert plot_losses.main([str(run / "logs"), str(run / "losses.png"), "--smooth", "1"]) == 0
    assert set(plot_losses.read_scalars(str(run / "logs"))) >= {"d_loss", "g_loss", "d_real", "d_fake"}
    saved = json.load(open(run / "ckpt" / "config.json"))
    assert saved["model"]["image_size"] == 16 and saved["train"]["loss"] == "dcgan"
    # Rerunning with more epochs continues from step 3; contradicting flags are refused.
    assert train_cli.main(tiny_cli_args(toy_dataset, run, "--epoch", "2")) == 0
    assert tf.train.latest_checkpoint(str(run / "ckpt")).endswith("ckpt-6")
    assert train_cli.main(tiny_cli_args(toy_dataset, run, "--loss", "wgan")) == 2


def test_sigterm_checkpoints_and_the_rerun_resumes(tmp_path):
    dataset = tmp_path / "faces"
    write_toy_faces(str(dataset), 64)
    run = tmp_path / "run"
    cmd = [sys.executable, os.path.join(ROOT, "train-dcgan.py"),
           *tiny_cli_args(str(dataset), run, "--epoch", "100000", "--checkpoint_every", "10000000",
                          "--sample_every", "1")]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    # Signalled once a step is done (its sample written), long before the 800,000 asked
    # for, however fast or busy the machine.
    deadline = time.time() + 180
    while not (run / "samples").is_dir() or not os.listdir(run / "samples"):
        assert time.time() < deadline and proc.poll() is None, "training did not start"
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 130, out
    assert "rerun the same command to resume" in out
    stopped_at = int(tf.train.latest_checkpoint(str(run / "ckpt")).rsplit("-", 1)[1])
    assert stopped_at > 0
    trainer = GANTrainer(TINY, TrainConfig(batch_size=8), str(run / "ckpt"))
    assert trainer.run.restore() and int(trainer.run.step.numpy()) == stopped_at


def test_export_round_trip(tmp_path, toy_dataset):
    run = tmp_path / "run"
    assert train_cli.main(tiny_cli_args(toy_dataset, run, "--epoch", "1",
                                        "--export", str(run / "export"))) == 0
    exported = tf.saved_model.load(str(run / "export"))
    _, G, _ = checkpoints.load_models(str(run / "ckpt"))
    z = sample_z(5, TINY.z_dim, (9, 9))
    np.testing.assert_allclose(exported.generate(z)["images"], G(z, training=False), atol=1e-6)
    served = exported.signatures["serving_default"](z=z)["images"]
    np.testing.assert_allclose(served, G(z, training=False), atol=1e-6)
    # The standalone command refuses to overwrite an existing export.
    from dcgan_completion.cli import export as export_cli
    assert export_cli.main(["--checkpoint_dir", str(run / "ckpt"), "--out", str(run / "export")]) == 2
    # ... and writes the compact weights file that every command also accepts.
    assert export_cli.main(["--checkpoint_dir", str(run / "ckpt"), "--out", str(run / "w.npz"),
                            "--weights"]) == 0
    _, G2, _ = checkpoints.load_model(str(run / "w.npz"))
    np.testing.assert_allclose(G2(z, training=False), G(z, training=False), atol=5e-3)


# --- scale-out -----------------------------------------------------------------------------

def _free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def test_two_workers_end_with_identical_weights(tmp_path, toy_dataset):
    workers = [f"127.0.0.1:{p}" for p in _free_ports(2)]
    run = tmp_path / "run"
    procs = []
    for index in range(2):
        env = dict(os.environ, TF_CONFIG=json.dumps(
            {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}))
        cmd = [sys.executable, os.path.join(ROOT, "train-dcgan.py"),
               *tiny_cli_args(toy_dataset, run, "--epoch", "2", "--strategy", "multiworker")]
        procs.append(subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, text=True))
    outs = [p.communicate(timeout=240)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert "2 replica(s)" in outs[0]
    chief = tf.train.load_checkpoint(tf.train.latest_checkpoint(str(run / "ckpt")))
    other = tf.train.load_checkpoint(tf.train.latest_checkpoint(str(run / "ckpt" / ".worker-1")))
    # Every saved tensor: weights, batch-norm statistics, optimizer slots, counters.
    names = [n for n in chief.get_variable_to_shape_map() if n != "_CHECKPOINTABLE_OBJECT_GRAPH"]
    assert len(names) > 50
    for name in names:
        np.testing.assert_array_equal(chief.get_tensor(name), other.get_tensor(name), err_msg=name)
    assert chief.get_tensor("step/.ATTRIBUTES/VARIABLE_VALUE") == 2 * (24 // 8)


MIRRORED_SCRIPT = r"""
import sys, tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
sys.path.insert(0, sys.argv[1]); sys.path.insert(0, sys.argv[1] + "/tests")
from dcgan_completion import data
from dcgan_completion.train import GANTrainer, TrainConfig
from test_train import TINY
strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
trainer = GANTrainer(TINY, TrainConfig(epochs=1, batch_size=8), sys.argv[3], strategy)
assert trainer.model_config.synchronized_bn
trainer.run.fit(data.find_training_images(sys.argv[2]))
print("replicas", strategy.num_replicas_in_sync, "step", int(trainer.run.step.numpy()))
"""


def test_mirrored_strategy_on_two_logical_devices(tmp_path, toy_dataset):
    # The multi-GPU code path (one input pipeline split across replicas, synchronised
    # batch norm), exercised on two logical CPU devices.
    out = subprocess.run([sys.executable, "-c", MIRRORED_SCRIPT, ROOT, toy_dataset,
                          str(tmp_path / "ckpt")], capture_output=True, text=True, timeout=240)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "replicas 2 step 3" in out.stdout
