"""Training never destroys a saved run: damaged checkpoint folders, unusable outputs,
NaN losses, undecodable images and bad numbers, seen from the command line."""

import json
import logging
import os

import pytest
import tensorflow as tf

from dcgan_completion import callbacks, data
from dcgan_completion.cli import train as train_cli
from dcgan_completion.cli import train_completion as completion_cli
from dcgan_completion.config import ModelConfig
from dcgan_completion.engine import TrainingDiverged
from dcgan_completion.train import GANTrainer, TrainConfig
from dcgan_completion.completion_net.training import CompletionTrainConfig

from conftest import write_toy_faces

# 8 toy faces, batch 4: 2 steps an epoch (DCGAN) or 2 (completion net, --d_steps 1).
TINY = ModelConfig(image_size=8, channels=3, z_dim=4, gf_dim=4, df_dim=4)


@pytest.fixture
def faces(tmp_path):
    folder = tmp_path / "faces"
    write_toy_faces(str(folder), 8, size=(16, 16))
    return str(folder)


def gan_args(dataset, run, *extra):
    return ["--dataset", dataset, "--image_size", "8", "--gf_dim", "4", "--df_dim", "4",
            "--z_dim", "4", "--batch_size", "4", "--checkpoint_dir", str(run / "ckpt"),
            "--sample_dir", str(run / "samples"), "--log_dir", str(run / "logs"),
            "--no_progress", *extra]


def completion_args(dataset, run, *extra):
    return ["--dataset", dataset, "--image_size", "16", "--width", "4", "--critic_width", "4",
            "--batch_size", "4", "--d_steps", "1", "--checkpoint_dir", str(run / "ckpt"),
            "--sample_dir", str(run / "samples"), "--log_dir", str(run / "logs"),
            "--no_progress", *extra]


def snapshot(folder):
    """{name: bytes} of every file in ``folder``: to show that nothing was touched."""
    return {name: open(os.path.join(folder, name), "rb").read() for name in sorted(os.listdir(folder))}


def ckpt_steps(folder):
    return sorted(int(n[5:-6]) for n in os.listdir(folder) if n.startswith("ckpt-") and n.endswith(".index"))


def truncate(path):
    raw = open(path, "rb").read()
    open(path, "wb").write(raw[: len(raw) // 2])


@pytest.fixture
def saved_run(tmp_path, faces):
    """A finished one-epoch DCGAN run with checkpoints at steps 1 and 2."""
    run = tmp_path / "run"
    assert train_cli.main(gan_args(faces, run, "--epoch", "1", "--checkpoint_every", "1")) == 0
    assert ckpt_steps(run / "ckpt") == [1, 2]
    return run


# --- a saved run is never started over, nor lost --------------------------------------------

@pytest.mark.parametrize("index", ["missing", "garbled"])
def test_lost_checkpoint_index_resumes_from_the_newest_checkpoint(saved_run, faces, caplog, index):
    caplog.set_level(logging.INFO)
    state = saved_run / "ckpt" / "checkpoint"
    if index == "missing":
        state.unlink()
    else:
        state.write_bytes(b"model_checkpoint_path: {{{ \x00\xff garbage")
    assert train_cli.main(gan_args(faces, saved_run, "--epoch", "2")) == 0
    assert ("is missing" if index == "missing" else "is unreadable") in caplog.text
    assert "resuming from" in caplog.text and "ckpt-2, the newest" in caplog.text
    # Steps 3 and 4 were added to the run; its checkpoints 1 and 2 are still there.
    assert ckpt_steps(saved_run / "ckpt") == [1, 2, 3, 4]
    assert tf.train.latest_checkpoint(str(saved_run / "ckpt")).endswith("ckpt-4")


@pytest.mark.parametrize("damage", ["truncated", "garbage"])
def test_damaged_newest_checkpoint_resumes_from_an_earlier_one(saved_run, faces, caplog, damage):
    caplog.set_level(logging.INFO)
    data_file = saved_run / "ckpt" / "ckpt-2.data-00000-of-00001"
    if damage == "truncated":
        truncate(data_file)
    else:
        data_file.write_bytes(os.urandom(data_file.stat().st_size))
    assert train_cli.main(gan_args(faces, saved_run, "--epoch", "2")) == 0
    assert "skipping checkpoint" in caplog.text and "ckpt-2, it is damaged" in caplog.text
    assert "resumed from" in caplog.text and "ckpt-1 at step 1" in caplog.text
    assert tf.train.latest_checkpoint(str(saved_run / "ckpt")).endswith("ckpt-4")
    trainer = GANTrainer(TINY, TrainConfig(batch_size=4), str(saved_run / "ckpt"))
    assert trainer.run.restore() and int(trainer.run.step.numpy()) == 4


def test_no_intact_checkpoint_is_refused_and_nothing_touched(saved_run, faces, caplog):
    folder = saved_run / "ckpt"
    for step in (1, 2):
        truncate(folder / f"ckpt-{step}.data-00000-of-00001")
    before = snapshot(folder)
    elsewhere = saved_run / "new"
    assert train_cli.main(gan_args(faces, saved_run, "--epoch", "2", "--sample_dir",
                                   str(elsewhere / "samples"), "--log_dir",
                                   str(elsewhere / "logs"))) == 2
    assert "none of the 2 checkpoint(s)" in caplog.text and "new checkpoint folder" in caplog.text
    assert snapshot(folder) == before
    assert not elsewhere.exists()      # no empty sample or log folder is left behind


@pytest.mark.parametrize("config", ["missing", "binary", "not-json", "list", "bad-values"])
def test_checkpoints_without_a_usable_config_are_refused(saved_run, faces, caplog, config):
    path = saved_run / "ckpt" / "config.json"
    if config == "missing":
        path.unlink()
    elif config == "binary":
        path.write_bytes(b"\xff\xfe\x00garbage")
    elif config == "not-json":
        path.write_text("{\"model\": ")
    elif config == "list":
        path.write_text("[1, 2]")
    else:
        saved = json.loads(path.read_text())
        saved["train"]["learning_rate"] = float("nan")
        path.write_text(json.dumps(saved))
    before = snapshot(saved_run / "ckpt")
    assert train_cli.main(gan_args(faces, saved_run, "--epoch", "2")) == 2
    assert "holds 2 checkpoint(s) (newest ckpt-2)" in caplog.text
    assert "new checkpoint folder" in caplog.text
    assert snapshot(saved_run / "ckpt") == before


def test_completion_checkpoints_without_config_are_refused(tmp_path, faces, caplog):
    run = tmp_path / "run"
    (run / "ckpt").mkdir(parents=True)
    (run / "ckpt" / "ckpt-5.index").write_bytes(b"a run's checkpoint")
    assert completion_cli.main(completion_args(faces, run, "--epoch", "2")) == 2
    assert "holds 1 checkpoint(s) (newest ckpt-5) but no config.json" in caplog.text
    assert os.listdir(run / "ckpt") == ["ckpt-5.index"]


# --- outputs are checked before the first step ----------------------------------------------

@pytest.mark.parametrize("flag", ["--checkpoint_dir", "--sample_dir", "--log_dir"])
def test_output_folder_below_a_file_is_refused_before_training(tmp_path, faces, caplog, flag):
    run = tmp_path / "run"
    (tmp_path / "somefile").write_text("x")
    args = gan_args(faces, run, "--epoch", "1") + [flag, str(tmp_path / "somefile" / "sub")]
    assert train_cli.main(args) == 2
    assert "is a file, not a folder" in caplog.text and "nothing was trained" in caplog.text
    assert not run.exists()            # the folders the checks made are taken back


def test_export_into_a_nonempty_folder_is_refused_before_training(tmp_path, faces, caplog):
    run = tmp_path / "run"
    (tmp_path / "export").mkdir()
    (tmp_path / "export" / "keep.txt").write_text("mine")
    assert train_cli.main(gan_args(faces, run, "--export", str(tmp_path / "export"))) == 2
    assert "not empty" in caplog.text and not (run / "ckpt").exists()
    assert os.listdir(tmp_path / "export") == ["keep.txt"]


@pytest.mark.parametrize("problem", ["existing weights file", "sample folder below a file"])
def test_completion_outputs_are_checked_before_training(tmp_path, faces, caplog, problem):
    run = tmp_path / "run"
    (tmp_path / "somefile").write_text("x")
    if problem == "existing weights file":
        extra = ["--export_weights", str(tmp_path / "somefile")]
        message = "exists; choose a new name"
    else:
        extra = ["--sample_dir", str(tmp_path / "somefile" / "samples")]
        message = "is a file, not a folder"
    assert completion_cli.main(completion_args(faces, run, *extra)) == 2
    assert message in caplog.text
    assert not (run / "ckpt").exists() or not ckpt_steps(run / "ckpt")
    assert (tmp_path / "somefile").read_text() == "x"


# --- NaN and inf ----------------------------------------------------------------------------

def test_diverging_from_the_first_step_writes_no_checkpoint(tmp_path, faces, caplog):
    run = tmp_path / "run"
    assert train_cli.main(gan_args(faces, run, "--learning_rate", "1e30",
                                   "--checkpoint_every", "1")) == 2
    assert "training diverged at step 1" in caplog.text and "nan" in caplog.text
    assert "no checkpoint had been written yet" in caplog.text
    assert "Lower --learning_rate (now 1e+30)" in caplog.text and ckpt_steps(run / "ckpt") == []


class BlowUp(callbacks.Callback):
    """After step 3: the learning rate explodes (the next losses are NaN), or a weight
    becomes inf (the losses of step 3 were still finite)."""

    def __init__(self, how):
        self.how = how

    def on_step_end(self, run, step, metrics):
        if step == 3 and self.how == "learning rate":
            run.trainer.g_optimizer.learning_rate.assign(1e30)
            run.trainer.d_optimizer.learning_rate.assign(1e30)
        elif step == 3:
            w = run.trainer.generator.trainable_variables[0]
            w.assign(tf.fill(w.shape, float("inf")))


@pytest.mark.parametrize("how,stopped_at,message", [
    ("learning rate", 4, "= nan"), ("weights", 3, "weights are no longer finite")])
def test_diverging_later_keeps_the_last_good_checkpoint_newest(tmp_path, faces, how, stopped_at, message):
    paths = data.find_training_images(faces)
    trainer = GANTrainer(TINY, TrainConfig(epochs=3, batch_size=4, checkpoint_every=1),
                         str(tmp_path / "ckpt"))
    with pytest.raises(TrainingDiverged, match=message) as diverged:
        trainer.run.fit(paths, [BlowUp(how)])
    assert diverged.value.step == stopped_at
    assert diverged.value.last_checkpoint.endswith(f"ckpt-{stopped_at - 1}")
    assert ckpt_steps(tmp_path / "ckpt") == [1, 2, 3][:stopped_at - 1][-3:]
    resumed = GANTrainer(TINY, TrainConfig(epochs=3, batch_size=4, checkpoint_every=1),
                         str(tmp_path / "ckpt"))
    assert resumed.run.restore() and int(resumed.run.step.numpy()) == stopped_at - 1
    assert resumed.run.weights_finite()


class Interrupt(callbacks.Callback):
    def on_step_end(self, run, step, metrics):
        if step == 3:
            raise KeyboardInterrupt("Interrupt: step 3")


def test_an_interrupt_after_non_finite_weights_saves_nothing(tmp_path, faces, caplog):
    trainer = GANTrainer(TINY, TrainConfig(epochs=3, batch_size=4, checkpoint_every=2),
                         str(tmp_path / "ckpt"))
    with pytest.raises(KeyboardInterrupt, match="Interrupt: step 3"):
        trainer.run.fit(data.find_training_images(faces), [BlowUp("weights"), Interrupt()])
    assert "no checkpoint written" in caplog.text and ckpt_steps(tmp_path / "ckpt") == [2]


def test_non_finite_weights_are_never_saved(tmp_path, faces):
    trainer = GANTrainer(TINY, TrainConfig(batch_size=4), str(tmp_path / "ckpt"))
    trainer.generator.trainable_variables[0].assign(
        tf.fill(trainer.generator.trainable_variables[0].shape, float("inf")))
    trainer.run.step.assign(1)
    with pytest.raises(TrainingDiverged, match="no longer finite"):
        trainer.run.save()
    assert not (tmp_path / "ckpt").exists() or ckpt_steps(tmp_path / "ckpt") == []


# --- images that cannot be decoded ----------------------------------------------------------

@pytest.mark.parametrize("cli,make_args", [(train_cli, gan_args), (completion_cli, completion_args)],
                         ids=["dcgan", "completion"])
def test_undecodable_images_train_nothing(tmp_path, faces, caplog, cli, make_args):
    for name in os.listdir(faces):
        truncate(os.path.join(faces, name))        # header fine, data cut
    run = tmp_path / "run"
    assert cli.main(make_args(faces, run, "--epoch", "2")) == 2
    assert "none of the 8 images could be decoded (8 skipped" in caplog.text
    assert ckpt_steps(run / "ckpt") == []
    listed = (run / "ckpt" / data.SKIPPED_FILES).read_text().splitlines()
    assert len(listed) == 8 and all("\t" in line for line in listed)


def test_a_truncated_image_is_skipped_listed_and_exits_1(tmp_path, faces, caplog):
    bad = os.path.join(faces, "face000.png")
    truncate(bad)
    write_toy_faces(str(tmp_path / "more"), 1, size=(16, 16), seed=3)
    os.replace(tmp_path / "more" / "face000.png", os.path.join(faces, "face999.png"))
    run = tmp_path / "run"
    # face000 is the first file: the sample grids take the next readable ones.
    assert completion_cli.main(completion_args(faces, run, "--epoch", "1")) == 1
    assert os.listdir(run / "samples") and ckpt_steps(run / "ckpt") == [2]
    (line,) = (run / "ckpt" / data.SKIPPED_FILES).read_text().splitlines()
    path, reason = line.split("\t")
    assert path == bad and "cannot decode" in reason
    assert "listed in" in caplog.text


def test_dcgan_run_that_skipped_a_file_exits_1_and_lists_it(tmp_path, faces):
    (tmp_path / "faces" / "garbage.jpg").write_bytes(b"not a jpeg")
    run = tmp_path / "run"
    assert train_cli.main(gan_args(faces, run, "--epoch", "1")) == 1
    (line,) = (run / "ckpt" / data.SKIPPED_FILES).read_text().splitlines()
    assert line.startswith(os.path.join(faces, "garbage.jpg") + "\t")


# --- numbers ---------------------------------------------------------------------------------

@pytest.mark.parametrize("flag,value,message", [
    ("--learning_rate", "nan", "finite"), ("--learning_rate", "0", "> 0"),
    ("--beta1", "1", "[0, 1)"), ("--beta2", "-0.1", "[0, 1)"), ("--epoch", "0", "at least 1"),
    ("--batch_size", "-4", "at least 1"), ("--checkpoint_every", "0", "at least 1"),
    ("--sample_every", "0", "at least 1"), ("--z_dim", "0", "at least 1"),
    ("--gp_weight", "inf", "finite"), ("--clip_value", "-1", ">= 0"), ("--train_size", "0", "at least 1"),
    ("--seed", "-1", "from 0 to 4294967295"), ("--seed", "4294967296", "from 0 to 4294967295")])
def test_bad_numbers_are_refused_at_parse_time(tmp_path, faces, capsys, flag, value, message):
    with pytest.raises(SystemExit) as exit_:
        train_cli.main(gan_args(faces, tmp_path / "run", flag, value))
    assert exit_.value.code == 2
    assert flag in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("flag,value", [
    ("--rec_weight", "nan"), ("--rec_weight", "-1"), ("--drop_prob", "1.5"), ("--fill", "inf"),
    ("--width", "0"), ("--critic_width", "0"), ("--patch_size", "0"), ("--d_steps", "0"),
    ("--g_steps", "0"), ("--image_size", "-16"), ("--seed", "-1")])
def test_completion_bad_numbers_are_refused_at_parse_time(tmp_path, faces, capsys, flag, value):
    with pytest.raises(SystemExit) as exit_:
        completion_cli.main(completion_args(faces, tmp_path / "run", flag, value))
    assert exit_.value.code == 2 and flag in capsys.readouterr().err


@pytest.mark.parametrize("cls", [TrainConfig, CompletionTrainConfig])
@pytest.mark.parametrize("setting", [dict(learning_rate=float("nan")), dict(beta2=float("inf")),
                                     dict(beta1=1.0), dict(gp_weight=-1.0), dict(d_steps=0),
                                     dict(epochs=2.5), dict(train_size=0), dict(seed=-1),
                                     dict(seed=2 ** 32)])
def test_library_configs_refuse_bad_numbers(cls, setting):
    with pytest.raises(ValueError, match=next(iter(setting))):
        cls(**setting)


def test_library_completion_config_refuses_a_nan_reconstruction_weight():
    with pytest.raises(ValueError, match="rec_weight"):
        CompletionTrainConfig(rec_weight=float("nan"))


def test_data_report_lists_one_file_per_line(tmp_path):
    report = data.BadFileReport()
    report.add("/a/b.png", "/a/b.png: cannot decode image (truncated)")
    report.add("/a/c\nd.png", "/a/c\nd.png: not an image")
    lines = open(report.write(str(tmp_path / "s.txt"))).read().splitlines()
    assert lines == ["/a/b.png\tcannot decode image (truncated)", "/a/c d.png\tnot an image"]
    assert os.listdir(tmp_path) == ["s.txt"]              # no temporary file left
