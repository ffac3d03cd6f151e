"""One code path for 64 and 128 pixels: every command on tiny models at both sizes
(train, train the encoder, train the completion network, complete by both methods,
evaluate, export), each output of the model's own size."""

import csv
import json
import os

import numpy as np
import pytest

from dcgan_completion import images
from dcgan_completion.cli import complete as complete_cli
from dcgan_completion.cli import evaluate as evaluate_cli
from dcgan_completion.cli import export as export_cli
from dcgan_completion.cli import train as train_cli
from dcgan_completion.cli import train_completion as train_completion_cli
from dcgan_completion.cli import train_encoder as train_encoder_cli

from conftest import write_toy_faces


def run_dirs(run):
    return ["--checkpoint_dir", str(run / "ckpt"), "--sample_dir", str(run / "samples"),
            "--log_dir", str(run / "logs"), "--no_progress"]


@pytest.mark.parametrize("size", [64, 128])
def test_every_command_works_at_the_model_size(size, tmp_path):
    faces = str(tmp_path / "faces")
    write_toy_faces(faces, 8, size=(size, size))
    dcgan, encoder, network = tmp_path / "dcgan", tmp_path / "dcgan" / "ckpt" / "encoder", \
        tmp_path / "net"

    assert train_cli.main(["--dataset", faces, "--image_size", str(size), "--gf_dim", "2",
                           "--df_dim", "2", "--z_dim", "4", "--batch_size", "4", "--epoch", "1",
                           *run_dirs(dcgan)]) == 0
    model = str(dcgan / "ckpt")
    assert json.load(open(os.path.join(model, "config.json")))["model"]["image_size"] == size
    # The encoder's run folder inside the model's folder is where completion finds it.
    assert train_encoder_cli.main(["--dataset", faces, "--model", model, "--width", "2",
                                   "--batch_size", "4", "--epoch", "1", "--checkpoint_dir",
                                   str(encoder), "--sample_dir", str(tmp_path / "es"),
                                   "--log_dir", str(tmp_path / "el"), "--no_progress"]) == 0
    assert train_completion_cli.main(["--dataset", faces, "--image_size", str(size), "--width",
                                      "2", "--critic_width", "2", "--batch_size", "4",
                                      "--d_steps", "1", "--epoch", "1", *run_dirs(network)]) == 0

    common = [faces, "--noProgress", "--batchSize", "4", "--outInterval", "2"]
    assert complete_cli.main([*common, "--checkpointDir", model, "--nIter", "2", "--refine", "2",
                              "--outDir", str(tmp_path / "c1")]) == 0
    assert complete_cli.main([*common, "--method", "network", "--checkpointDir",
                              str(network / "ckpt"), "--outDir", str(tmp_path / "c2")]) == 0
    for out in ("c1", "c2"):
        done = sorted(os.listdir(tmp_path / out / "completed"))
        assert len(done) == 8
        picture = images.load_image(str(tmp_path / out / "completed" / done[0]), size=None)
        assert picture.shape == (size, size, 3)
        with open(tmp_path / out / "inputs.csv") as f:
            assert {row["status"] for row in csv.DictReader(f)} == {"completed"}

    assert evaluate_cli.main([faces, "--checkpointDir", model, "--networkDir", str(network / "ckpt"),
                              "--methods", "navier-stokes", "dcgan", "network", "--masks", "center",
                              "--nIter", "2", "--noIdentity", "--noProgress",
                              "--outDir", str(tmp_path / "e")]) == 0
    results = json.load(open(tmp_path / "e" / "results.json"))
    assert "dcgan" in json.dumps(results) and "network" in json.dumps(results)

    exported = str(tmp_path / "model.npz")
    assert export_cli.main(["--checkpoint_dir", model, "--out", exported, "--weights"]) == 0
    with np.load(exported) as weights:
        assert weights[f"generator/g_h{size.bit_length() - 3}/kernel"].shape[2] == 3   # the RGB layer
