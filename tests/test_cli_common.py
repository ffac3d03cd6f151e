"""What every command shares: a quiet start, numbers checked at parse time."""

import argparse
import os
import re
import subprocess
import sys

import pytest

from dcgan_completion.cli import common

from conftest import write_toy_faces

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Lines TensorFlow 2.21 prints when it starts (absl pre-init, oneDNN, CUDA stubs, CPU flags).
STARTUP_NOISE = ("absl::InitializeLog", "oneDNN", "cuda", "cuInit", "cpu_feature_guard",
                 "rebuild TensorFlow")


def run_command(module, *args):
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}   # as a user has it
    return subprocess.run([sys.executable, "-m", f"dcgan_completion.cli.{module}", *args],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)


def noise_in(stderr):
    return [line for line in stderr.splitlines()
            if any(word.lower() in line.lower() for word in STARTUP_NOISE)]


def test_commands_start_without_tensorflow_noise(tmp_path):
    run = run_command("make_gif", str(tmp_path / "no-such-folder"), str(tmp_path / "x.gif"))
    assert run.returncode == 2
    assert noise_in(run.stderr) == [], run.stderr
    assert "no-such-folder" in run.stderr               # our own message still shows
    assert "Traceback" not in run.stderr


def test_worker_processes_start_quietly_too(tmp_path):
    photos = tmp_path / "photos"
    write_toy_faces(str(photos), 2)                       # no real face: nothing aligned
    run = run_command("align", str(photos), "align", str(tmp_path / "out"), "--workers", "2",
                      "--noProgress")
    assert run.returncode == 2
    assert noise_in(run.stderr) == [], run.stderr
    assert "no face" in run.stderr


@pytest.mark.parametrize("kind, good, bad", [
    (common.positive_int, ("1", "64"), ("0", "-1", "2.5", "x")),
    (common.nonnegative_int, ("0", "7"), ("-1", "nan")),
    (common.finite_float, ("-3", "0", "1e-3"), ("nan", "inf", "-inf", "x")),
    (common.nonnegative_float, ("0", "0.003"), ("-0.1", "nan", "inf")),
    (common.positive_float, ("0.01",), ("0", "-1", "nan", "inf")),
    (common.fraction, ("0", "0.5", "1"), ("-0.1", "1.5", "nan")),
    (common.seed, ("0", "4294967295"), ("-1", "4294967296", "99999999999999999999", "1.5")),
    (common.number_in(int, 0, 65535), ("0", "65535"), ("65536", "-1")),
])
def test_argparse_number_types(kind, good, bad):
    for text in good:
        kind(text)
    for text in bad:
        with pytest.raises(argparse.ArgumentTypeError, match=re.escape(repr(text))):
            kind(text)


def test_a_library_error_gets_this_commands_flag():
    from dcgan_completion.checkpoints import CheckpointError
    error = CheckpointError("no model given", setting="source")
    assert common.error_message(error, {"source": "--checkpointDir DIR"}) == \
        "no model given (--checkpointDir DIR)"
    assert common.error_message(error, {}) == "no model given"
    assert common.error_message(ValueError("plain"), {"source": "--x"}) == "plain"


def test_a_bad_number_is_refused_with_the_flag_named(capsys):
    p = argparse.ArgumentParser(prog="x")
    p.add_argument("--lam", type=common.nonnegative_float)
    with pytest.raises(SystemExit) as exit_:
        p.parse_args(["--lam", "nan"])
    assert exit_.value.code == 2
    assert "argument --lam: must be a finite number, got 'nan'" in capsys.readouterr().err
