"""Bad input, interrupts and the exit status of align, evaluate, make-gif, export,
plot-losses and distributions, and damaged weights files: a message naming the file and
what is wrong, never a traceback; nothing half-written under a real name."""

import json
import os
import subprocess
import sys

import matplotlib.cbook
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image
from skimage import data as skdata

from dcgan_completion import align, checkpoints, evaluate, images
from dcgan_completion.cli import align as align_cli
from dcgan_completion.cli import complete as complete_cli
from dcgan_completion.cli import distributions, export, make_gif, plot_losses
from dcgan_completion.cli import evaluate as evaluate_cli
from dcgan_completion.completion_net.networks import CompletionConfig, build_completion_net
from dcgan_completion.config import ModelConfig, save_config
from dcgan_completion.model import build_models
from dcgan_completion.completion_net.weights import load_completion_net, save_completion_net_weights

from conftest import write_toy_faces

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = ModelConfig(image_size=16, z_dim=8, gf_dim=4, df_dim=4)
TINY_NET = CompletionConfig(image_size=16, channels=3, width=4, critic_width=4)


def hidden_leftovers(folder):
    """Temporary files or folders (.name.xxxx.partial...) left anywhere under ``folder``."""
    return [n for _, dirs, names in os.walk(folder) for n in dirs + names if ".partial" in n]


@pytest.fixture
def weights(tmp_path):
    G, D = build_models(TINY)
    return checkpoints.save_weights_file(TINY, G, D, str(tmp_path / "w.npz"))


@pytest.fixture
def checkpoint_dir(tmp_path):
    G, D = build_models(TINY)
    ckpt = tmp_path / "ckpt"
    tf.train.Checkpoint(generator=G, discriminator=D).save(str(ckpt / "ckpt"))
    save_config(TINY, str(ckpt))
    return str(ckpt)


# --- weights files ---------------------------------------------------------------------------

def damaged_copies(good, folder):
    """{kind: path} of bad weights files made from the good one."""
    data = open(good, "rb").read()
    bad = {"truncated": data[:len(data) // 2], "random bytes": np.random.default_rng(0).bytes(4000),
           "empty": b""}
    corrupt = bytearray(data)
    corrupt[len(data) // 3:len(data) // 3 + 64] = bytes(64)
    bad["corrupt"] = bytes(corrupt)
    paths = {}
    for kind, content in bad.items():
        paths[kind] = os.path.join(folder, kind.replace(" ", "-") + ".npz")
        with open(paths[kind], "wb") as f:
            f.write(content)
    paths["pickled"] = os.path.join(folder, "pickled.npz")
    np.savez(paths["pickled"], x=np.array([{"a": 1}], dtype=object))
    return paths


def test_damaged_weights_files_are_named_and_never_unpickled(weights, tmp_path):
    expected = {"truncated": "truncated or damaged", "corrupt": "truncated or damaged",
                "random bytes": "not an .npz archive", "empty": "not an .npz archive",
                "pickled": "holds Python objects"}
    for kind, path in damaged_copies(weights, str(tmp_path)).items():
        # Both loaders share one reader: the same message for the DCGAN and the network.
        for load in (checkpoints.load_weights_file, load_completion_net):
            with pytest.raises(checkpoints.CheckpointError, match=expected[kind]) as e:
                load(path)
            assert path in str(e.value) and "allow_pickle" not in str(e.value)
    arrays, meta = checkpoints.read_weights_file(weights)
    assert meta == TINY.to_dict() and checkpoints.CONFIG_KEY not in arrays
    # The wrong kind of weights file is named as such, both ways round.
    net_weights = save_completion_net_weights(TINY_NET, build_completion_net(TINY_NET),
                                              str(tmp_path / "net.weights"))
    assert os.path.isfile(net_weights)               # exactly that name: no .npz appended
    with pytest.raises(checkpoints.CheckpointError, match="holds a completion network") as e:
        checkpoints.load_weights_file(net_weights)
    assert e.value.setting == "load_completion_net"        # a command names its own flag
    with pytest.raises(checkpoints.CheckpointError, match="holds no completion network") as e:
        load_completion_net(weights)
    assert e.value.setting == "load_model"
    assert not hidden_leftovers(tmp_path)


@pytest.mark.parametrize("method", ["dcgan", "network"])
def test_complete_with_a_damaged_weights_file_exits_2(weights, tmp_path, caplog, method):
    bad = damaged_copies(weights, str(tmp_path))
    face = write_toy_faces(str(tmp_path / "faces"), 1, size=(16, 16))[0]
    for kind in ("truncated", "random bytes"):
        rc = complete_cli.main(["--method", method, "--checkpointDir", bad[kind], "--outDir",
                                str(tmp_path / f"out-{method}"), face])
        assert rc == 2
        assert f"{bad[kind]} is " in caplog.text and "Traceback" not in caplog.text
    assert "allow_pickle" not in caplog.text


def cut_in_half(folder, suffix):
    path, = [os.path.join(folder, n) for n in os.listdir(folder) if n.endswith(suffix)]
    data = open(path, "rb").read()
    with open(path, "wb") as f:
        f.write(data[:len(data) // 2])


def test_damaged_checkpoint_folders(checkpoint_dir, tmp_path, caplog):
    from dcgan_completion.completion_net.networks import save_completion_config
    net_dir = str(tmp_path / "net")
    tf.train.Checkpoint(completion_net=build_completion_net(TINY_NET)).save(net_dir + "/ckpt")
    save_completion_config(TINY_NET, net_dir)
    cut_in_half(checkpoint_dir, ".data-00000-of-00001")
    cut_in_half(net_dir, ".index")
    with pytest.raises(checkpoints.CheckpointError, match="ckpt-1 is truncated or damaged"):
        checkpoints.load_models(checkpoint_dir)
    with pytest.raises(checkpoints.CheckpointError, match="ckpt-1 is truncated or damaged"):
        load_completion_net(net_dir)
    assert export.main(["--checkpoint_dir", checkpoint_dir, "--out", str(tmp_path / "w.npz"),
                        "--weights"]) == 2
    assert "is truncated or damaged" in caplog.text and not os.path.exists(tmp_path / "w.npz")


@pytest.mark.parametrize("index", [None, b"\xff\xfe\x00 not text"], ids=["missing", "garbled"])
def test_a_lost_checkpoint_index_still_loads_the_newest_checkpoint(checkpoint_dir, tmp_path, index):
    from dcgan_completion.completion_net.networks import save_completion_config
    net_dir = str(tmp_path / "net")
    tf.train.Checkpoint(completion_net=build_completion_net(TINY_NET)).save(net_dir + "/ckpt")
    save_completion_config(TINY_NET, net_dir)
    for folder in (checkpoint_dir, net_dir):
        os.remove(os.path.join(folder, "checkpoint"))
        if index is not None:
            with open(os.path.join(folder, "checkpoint"), "wb") as f:
                f.write(index)
        assert checkpoints.newest_checkpoint(folder) == os.path.join(folder, "ckpt-1")
    checkpoints.load_models(checkpoint_dir)
    load_completion_net(net_dir)


def test_a_garbled_checkpoint_index_is_said_once(checkpoint_dir, tmp_path, caplog):
    # TF's parser used to speak at every read of the index (ParseError, "Checkpoint
    # ignored"), each line twice; the timing of two precisions read it twice more.
    with open(os.path.join(checkpoint_dir, "checkpoint"), "w") as f:
        f.write('model_checkpoint_path: garbled {{{')
    write_toy_faces(str(tmp_path / "faces"), 2, size=(16, 16))
    rc = complete_cli.main([str(tmp_path / "faces"), "--checkpointDir", checkpoint_dir,
                            "--nIter", "2", "--precision", "measure", "--outDir",
                            str(tmp_path / "out"), "--noProgress"])
    assert rc == 0
    assert caplog.text.count("is unreadable; loading the newest checkpoint there, ckpt-1") == 1
    assert "ParseError" not in caplog.text and "Checkpoint ignored" not in caplog.text


# --- align -----------------------------------------------------------------------------------

def sideways_portrait(path):
    """The astronaut stored rotated, upright only through EXIF Orientation 6 (a phone's
    portrait): dlib finds no face in the stored pixels."""
    img = Image.fromarray(np.ascontiguousarray(np.rot90(skdata.astronaut(), 1)))
    exif = img.getexif()
    exif[0x0112] = 6
    os.makedirs(os.path.dirname(path), exist_ok=True)
    img.save(path, exif=exif)


def align_args(src, out, *extra):
    return [str(src), "align", str(out), "--size", "32", "--workers", "1", "--noProgress", *extra]


def test_align_exif_portrait_and_exit_status(tmp_path, caplog):
    src, out = tmp_path / "raw", tmp_path / "aligned"
    sideways_portrait(str(src / "phone" / "portrait.jpg"))
    assert align_cli.main(align_args(src, out)) == 0           # every photo gave a face
    assert os.path.exists(out / "phone" / "portrait.png")
    assert align_cli.main(align_args(src, out)) == 0           # already done counts as done
    # Only photos without a face: nothing aligned at all.
    lonely = tmp_path / "coins"
    images.save_image(str(lonely / "coins.png"), skdata.coins()[..., None])
    (lonely / "broken.jpg").write_bytes(b"not a jpeg")
    caplog.clear()
    assert align_cli.main(align_args(lonely, tmp_path / "none")) == 2
    assert "no face could be aligned" in caplog.text and "broken.jpg" in caplog.text
    log_text = open(tmp_path / "none" / "align-log.txt").read()
    assert "no face: " + str(lonely / "coins.png") in log_text and "broken.jpg" in log_text
    # No image at all, or a file where the input folder should be: 2 before any work.
    (tmp_path / "empty").mkdir()
    caplog.clear()
    assert align_cli.main(align_args(tmp_path / "empty", tmp_path / "o1")) == 2
    assert "no image in" in caplog.text and not (tmp_path / "o1").exists()
    assert align_cli.main(align_args(lonely / "coins.png", tmp_path / "o2")) == 2
    assert "is a file, not a folder" in caplog.text and "Traceback" not in caplog.text
    # A landmark model that is not there: refused, and no empty output folder is left.
    assert align_cli.main(align_args(src, tmp_path / "o3" / "faces", "--dlibFacePredictor",
                                     str(tmp_path / "no-model.dat"))) == 2
    assert "no-model.dat" in caplog.text and not (tmp_path / "o3").exists()
    assert "(--dlibFacePredictor PATH)" in caplog.text          # the library names no flag


def test_align_interrupt_keeps_the_faces_saved_and_says_so(tmp_path, monkeypatch, caplog):
    src, out = tmp_path / "raw", tmp_path / "aligned"
    images.save_image(str(src / "a.png"), skdata.astronaut())
    Image.open(matplotlib.cbook.get_sample_data("grace_hopper.jpg")).convert("RGB") \
        .save(src / "b.jpg")
    out.mkdir()
    with open(out / align.MANIFEST, "w") as f:
        f.write('{"source": "cut sho')                     # a crashed run's last line
    real, calls = align._align_one, []

    def ctrl_c_on_second(aligner, job):
        calls.append(job)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(aligner, job)
    monkeypatch.setattr(align, "_align_one", ctrl_c_on_second)
    assert align_cli.main(align_args(src, out, "--flat")) == 130
    assert "interrupted: 1 face(s) aligned" in caplog.text and "1 photo(s) not done" in caplog.text
    assert sorted(f for f in os.listdir(out) if f.endswith(".png")) == ["a.png"]
    rows = open(out / align.MANIFEST).read().splitlines()
    assert json.loads(rows[-1])["output"] == str(out / "a.png")   # not glued to the cut line
    assert "interrupted" in open(out / align.LOG).read()
    assert not hidden_leftovers(out)


# --- evaluate --------------------------------------------------------------------------------

def test_evaluate_names_skipped_images_and_exits_1(weights, tmp_path, caplog):
    faces = tmp_path / "faces"
    write_toy_faces(str(faces), 3, size=(16, 16))
    (faces / "broken.png").write_bytes(b"not a png")
    out = tmp_path / "eval"
    rc = evaluate_cli.main([str(faces), "--checkpointDir", weights, "--methods", "telea",
                            "--masks", "center", "--gridRows", "0", "--outDir", str(out),
                            "--noProgress"])
    assert rc == 1
    results = json.load(open(out / "results.json"))
    assert list(results["skipped"]) == ["broken.png"] and len(results["images"]) == 3
    assert "not an image file" in results["skipped"]["broken.png"]
    assert sorted(os.listdir(out)) == ["results.json", "table.txt"]      # --gridRows 0: none
    assert "broken.png" in caplog.text


def test_evaluate_refuses_bad_settings_before_the_run(weights, tmp_path, caplog, capsys,
                                                      monkeypatch):
    monkeypatch.chdir(tmp_path)           # a setting let through would write ./evaluation here
    faces = tmp_path / "faces"
    write_toy_faces(str(faces), 2, size=(16, 16))
    base = [str(faces), "--checkpointDir", weights, "--methods", "telea", "--noProgress"]
    for bad in (["--limit", "-1"], ["--limit", "0"], ["--gridRows", "-1"], ["--fraction", "nan"],
                ["--centerScale", "0.7"]):
        with pytest.raises(SystemExit) as e:
            evaluate_cli.main(base + bad)
        assert e.value.code == 2 and f"argument {bad[0]}" in capsys.readouterr().err
    blocker = tmp_path / "file"
    blocker.write_text("a file where a folder should be")
    assert evaluate_cli.main(base + ["--outDir", str(blocker / "eval")]) == 2
    assert "is a file, not a folder" in caplog.text
    caplog.clear()
    assert evaluate_cli.main([str(tmp_path / "nowhere")] + base[1:] +
                             ["--outDir", str(tmp_path / "e2")]) == 2
    assert "data folder" in caplog.text and "does not exist" in caplog.text
    with pytest.raises(SystemExit) as e:                      # refused at parse time
        evaluate_cli.main(base + ["--batchSize", "-3", "--outDir", str(tmp_path / "e4")])
    assert e.value.code == 2 and "argument --batchSize" in capsys.readouterr().err
    (tmp_path / "unreadable").mkdir()
    (tmp_path / "unreadable" / "a.png").write_bytes(b"not a png")
    assert evaluate_cli.main([str(tmp_path / "unreadable")] + base[1:] +
                             ["--outDir", str(tmp_path / "e5")]) == 2
    assert "no readable image" in caplog.text
    assert not any((tmp_path / f"e{i}").exists() for i in range(2, 6))   # no empty folders
    assert "Traceback" not in caplog.text


def test_evaluate_interrupt_names_what_was_written(weights, tmp_path, monkeypatch, caplog):
    write_toy_faces(str(tmp_path / "faces"), 2, size=(16, 16))
    real, calls = evaluate.run_method, []

    def ctrl_c_on_second_mask(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)
    monkeypatch.setattr(evaluate, "run_method", ctrl_c_on_second_mask)
    out = tmp_path / "eval"
    assert evaluate_cli.main([str(tmp_path / "faces"), "--checkpointDir", weights, "--methods",
                              "telea", "--masks", "center", "left", "--outDir", str(out),
                              "--noProgress"]) == 130
    assert os.listdir(out) == ["grid_center.png"]
    assert "grid_center.png" in caplog.text and "no results.json" in caplog.text


# --- make-gif --------------------------------------------------------------------------------

def test_make_gif_checks_the_destination_first_and_names_dropped_frames(tmp_path, caplog,
                                                                        capsys):
    frames = tmp_path / "frames"
    for i in range(2):
        images.save_image(str(frames / f"f{i}.png"), np.full((8, 8, 3), 50 * i, np.uint8))
    (frames / "f2.png").write_bytes(b"cut")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    (tmp_path / "folder").mkdir()
    for dest, says in ((tmp_path / "folder", "is a folder"),
                       (blocker / "out.gif", "is a file, not a folder")):
        caplog.clear()
        assert make_gif.main([str(frames), str(dest)]) == 2
        assert says in caplog.text and "f2.png" not in caplog.text     # no frame read yet
    assert make_gif.main([str(blocker), str(tmp_path / "x.gif")]) == 2   # frames: a file
    (tmp_path / "none").mkdir()
    assert make_gif.main([str(tmp_path / "none"), str(tmp_path / "x.gif")]) == 2
    for bad in (["--delay", "nan"], ["--delay", "-1"], ["--loop", "-2"], ["--loop", "70000"],
                ["--delay", "1e9"]):
        with pytest.raises(SystemExit) as e:
            make_gif.main([str(frames), str(tmp_path / "x.gif")] + bad)
        assert e.value.code == 2 and f"argument {bad[0]}" in capsys.readouterr().err
    caplog.clear()
    out = tmp_path / "gifs" / "out.gif"
    assert make_gif.main([str(frames), str(out)]) == 1
    assert "f2.png" in caplog.text and os.listdir(out.parent) == ["out.gif"]
    assert "Traceback" not in caplog.text


def test_make_gif_script_refuses_a_folder_as_destination(tmp_path):
    frames = tmp_path / "frames"
    images.save_image(str(frames / "f.png"), np.zeros((8, 8, 3), np.uint8))
    run = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "make-gif.py"),
                          str(frames), str(frames)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 2
    assert "is a folder" in run.stderr and "Traceback" not in run.stderr


# --- export ----------------------------------------------------------------------------------

def test_export_checks_out_before_loading(checkpoint_dir, tmp_path, caplog):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("keep")
    nowhere = str(tmp_path / "no-checkpoint")         # never looked at: --out is refused first
    for out, flags, says in ((blocker / "w.npz", ["--weights"], "is a file, not a folder"),
                             (blocker, ["--weights"], "exists"),
                             (tmp_path / "full", ["--weights"], "is a folder"),
                             (blocker / "sm", [], "is a file, not a folder"),
                             (blocker, [], "is a file, not a folder"),
                             (tmp_path / "full", [], "not empty")):
        caplog.clear()
        assert export.main(["--checkpoint_dir", nowhere, "--out", str(out)] + flags) == 2
        assert says in caplog.text and "no-checkpoint" not in caplog.text
    assert open(tmp_path / "full" / "keep.txt").read() == "keep"
    caplog.clear()
    assert export.main(["--checkpoint_dir", str(blocker), "--out", str(tmp_path / "w.npz"),
                        "--weights"]) == 2
    assert "is a file, not a checkpoint folder" in caplog.text
    assert "Traceback" not in caplog.text


def test_export_savedmodel_is_atomic(checkpoint_dir, tmp_path, monkeypatch, caplog):
    # Into an existing empty folder: written beside it, then put in its place.
    (tmp_path / "sm").mkdir()
    assert export.main(["--checkpoint_dir", checkpoint_dir, "--out", str(tmp_path / "sm")]) == 0
    z = np.zeros((1, TINY.z_dim), np.float32)
    exported = tf.saved_model.load(str(tmp_path / "sm"))     # kept: its variables live on it
    assert exported.generate(z)["images"].shape == (1, 16, 16, 3)
    # Stopped half-way: nothing under the name, no hidden folder left.
    real = tf.saved_model.save

    def save_then_ctrl_c(obj, export_dir, **kwargs):
        real(obj, export_dir, **kwargs)
        raise KeyboardInterrupt
    monkeypatch.setattr(tf.saved_model, "save", save_then_ctrl_c)
    assert export.main(["--checkpoint_dir", checkpoint_dir, "--out", str(tmp_path / "sm2")]) == 130
    assert not (tmp_path / "sm2").exists() and not hidden_leftovers(tmp_path)
    assert "nothing exported" in caplog.text


# --- plot-losses -----------------------------------------------------------------------------

def write_events(log_dir, steps=5):
    writer = tf.summary.create_file_writer(log_dir)
    with writer.as_default():
        for step in range(steps):
            tf.summary.scalar("d_loss", 1.0 / (step + 1), step=step)
            tf.summary.scalar("g_loss", float(step), step=step)
    writer.close()
    return [os.path.join(log_dir, n) for n in os.listdir(log_dir)]


def test_plot_losses_bad_folders_and_outputs(tmp_path, caplog, capsys):
    logs = tmp_path / "logs"
    event_file, = write_events(str(logs))
    blocker = tmp_path / "file.png"
    blocker.write_text("x")
    write_toy_faces(str(tmp_path / "faces-not-logs"), 1)
    for args, says in (([str(tmp_path / "nowhere"), str(tmp_path / "a.png")], "does not exist"),
                       ([str(blocker), str(tmp_path / "a.png")], "is a file, not a folder"),
                       ([str(logs), str(blocker)], "exists"),
                       ([str(logs), str(blocker / "a.png")], "is a file, not a folder"),
                       ([str(logs), str(tmp_path / "a.xyz")], "cannot draw a .xyz file"),
                       ([str(blocker.parent / "faces-not-logs"), str(tmp_path / "a.png")], "no training scalars")):
        caplog.clear()
        assert plot_losses.main(args) == 2
        assert says in caplog.text
    assert open(blocker).read() == "x"
    with pytest.raises(SystemExit) as e:
        plot_losses.main([str(logs), str(tmp_path / "a.png"), "--smooth", "0"])
    assert e.value.code == 2
    assert "argument --smooth: must be a whole number of at least 1" in capsys.readouterr().err
    # A run killed while writing: the events before the cut are plotted.
    with open(event_file, "r+b") as f:
        f.truncate(os.path.getsize(event_file) - 7)
    caplog.clear()
    assert plot_losses.main([str(logs), str(tmp_path / "plot"), "--smooth", "2"]) == 0
    assert "cut-off record" in caplog.text
    with Image.open(tmp_path / "plot") as img:                # no extension: PNG, that name
        assert img.format == "PNG"
    assert not hidden_leftovers(tmp_path) and "Traceback" not in caplog.text


# --- distributions ---------------------------------------------------------------------------

def test_distributions_refuses_a_file_and_existing_figures(tmp_path, caplog, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert distributions.main([str(blocker)]) == 2
    assert distributions.main([str(blocker / "figs")]) == 2
    assert "is a file, not a folder" in caplog.text
    figs = tmp_path / "figs"
    figs.mkdir()
    (figs / "normal-2d.png").write_text("mine")
    caplog.clear()
    assert distributions.main([str(figs)]) == 2
    assert "normal-2d.png" in caplog.text and os.listdir(figs) == ["normal-2d.png"]
    assert (figs / "normal-2d.png").read_text() == "mine"
    with pytest.raises(SystemExit) as e:
        distributions.main([str(tmp_path / "x"), "--seed", "-1"])
    assert e.value.code == 2
    assert "argument --seed: must be a whole number" in capsys.readouterr().err
