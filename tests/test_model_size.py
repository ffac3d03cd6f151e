"""Issue 24, sharp at photo resolution: each face is completed by the bundled model whose
size is closest to the face's size in the photo without working below it (--modelSize),
by dcgan-complete, dcgan-evaluate --photo, dcgan-demo and the web page alike.

Two tiny DCGANs (64 and 128 px) stand in for the bundled ones: saved under the bundled
names in a temporary folder that the registry is pointed at. Photos: Grace Hopper (a face
of about 190 px) and the astronaut shrunk to 40 % (about 37 px); the demo's own photos
are Grace Hopper and the whole astronaut (about 93 px).
"""

import base64
import csv
import io
import json
import logging
import os
import time

import matplotlib.cbook
import numpy as np
import pytest
from PIL import Image

from dcgan_completion import align, checkpoints, images, masks, photos
from dcgan_completion.cli import complete as complete_cli
from dcgan_completion.cli import demo as demo_cli
from dcgan_completion.cli import evaluate as evaluate_cli
# Imported now, while checkpoints.BUNDLED_WEIGHTS is the installed one: the bundled
# network's path is made from it at import, and the fixtures below move it for a while.
from dcgan_completion.completion_net import weights as network_weights  # noqa: F401
from dcgan_completion.config import ModelConfig
from dcgan_completion.model import build_models


# --- the rule ------------------------------------------------------------------------------

@pytest.mark.parametrize("side, sizes, chosen", [
    (50, (64, 128), 64), (64, (64, 128), 64), (64.5, (64, 128), 128), (90, (64, 128), 128),
    (128, (64, 128), 128), (300, (64, 128), 128), (50, (64,), 64), (300, (64,), 64),
    (10, (128, 64), 64), (200, (64, 128, 256), 256), (129, (256, 64, 128), 256),
])
def test_the_smallest_model_at_least_the_face_else_the_largest(side, sizes, chosen):
    assert photos.choose_model_size(side, sizes) == chosen


def test_no_model_to_choose_from_is_refused():
    with pytest.raises(ValueError, match="no model"):
        photos.choose_model_size(100, [])


# --- the photos ------------------------------------------------------------------------------

def hopper() -> np.ndarray:
    with Image.open(matplotlib.cbook.get_sample_data("grace_hopper.jpg")) as img:
        return np.asarray(img.convert("RGB"))                          # (600, 512, 3)


def small_astronaut() -> np.ndarray:
    from skimage import data as skdata
    return np.asarray(Image.fromarray(skdata.astronaut()).resize((204, 204), Image.LANCZOS))


@pytest.fixture(scope="module")
def aligner():
    return align.FaceAligner()


def test_a_face_keeps_its_size_in_pixels_and_is_aligned_again_without_detection(aligner):
    photo = hopper()
    face = photos.photo_face("hopper", photo, masks.MaskSpec.create("center", 64), aligner)
    assert 150 < photos.face_side(face.face) < 230
    big = photos.at_size(face, masks.MaskSpec.create("center", 128), None, 0)
    again = aligner.align(photo, 128)
    assert big.face.image.shape == (128, 128, 3) and big.mask.shape == (128, 128, 1)
    assert np.array_equal(big.face.image, again.image)
    assert np.allclose(big.face.affine, again.affine)
    assert photos.face_side(big.face) == pytest.approx(photos.face_side(face.face), rel=1e-4)
    small = photos.photo_face("astro", small_astronaut(), masks.MaskSpec.create("center", 64),
                              aligner)
    assert 25 < photos.face_side(small.face) < 55


# --- dcgan-complete --photo ------------------------------------------------------------------

def tiny_model(path, size: int) -> str:
    cfg = ModelConfig(image_size=size, z_dim=8, gf_dim=2, df_dim=2)
    return checkpoints.save_weights_file(cfg, *build_models(cfg), str(path))


@pytest.fixture(scope="module")
def bundled(tmp_path_factory):
    """A folder holding tiny models under the bundled names: {64: path, 128: path}."""
    folder = tmp_path_factory.mktemp("models")
    return {size: tiny_model(folder / checkpoints.BUNDLED_DCGAN_NAMES[size], size)
            for size in (64, 128)}


@pytest.fixture
def both(bundled, monkeypatch):
    monkeypatch.setattr(checkpoints, "BUNDLED_WEIGHTS", bundled[64])
    assert checkpoints.bundled_models() == bundled
    return bundled


@pytest.fixture
def only_64(bundled, tmp_path, monkeypatch):
    os.makedirs(tmp_path / "models")
    path = str(tmp_path / "models" / checkpoints.BUNDLED_DCGAN_NAMES[64])
    os.link(bundled[64], path)
    monkeypatch.setattr(checkpoints, "BUNDLED_WEIGHTS", path)
    assert checkpoints.bundled_models() == {64: path}
    return path


@pytest.fixture(scope="module")
def photo_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("photos")
    images.save_image(str(folder / "hopper.png"), hopper())
    images.save_image(str(folder / "astro.png"), small_astronaut())
    return folder


def run(out, inputs, *extra):
    return complete_cli.main(["--outDir", str(out), "--nIter", "2", "--refine", "0", "--init",
                              "random", "--noProgress", "--precision", "float32",
                              "--blend", "none", *map(str, extra), *map(str, inputs)])


def model_sizes(out) -> dict:
    with open(out / "inputs.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert all(r["status"] == "completed" for r in rows), rows
    return {os.path.basename(r["input"]): r["model_size"] for r in rows}


def side_of(path) -> int:
    return images.load_image(str(path)).shape[0]


def test_photo_mode_picks_128_for_a_large_face_and_64_for_a_small_one(tmp_path, both, photo_dir,
                                                                      caplog):
    out = tmp_path / "out"
    with caplog.at_level(logging.INFO):
        assert run(out, [photo_dir], "--photo") == 0
    assert model_sizes(out) == {"hopper.png": "128", "astro.png": "64"}
    assert side_of(out / "completed" / "hopper.png") == 128
    assert side_of(out / "completed" / "astro.png") == 64
    assert images.load_image(str(out / "restored" / "hopper.png")).shape == hopper().shape
    assert images.load_image(str(out / "restored" / "astro.png")).shape == (204, 204, 3)
    assert sorted(n for n in os.listdir(out) if n.startswith("batch")) == ["batch000", "batch001"]
    assert "1 photo(s) at 64 px: faces of" in caplog.text
    assert "1 photo(s) at 128 px: faces of" in caplog.text


def test_model_size_64_forces_the_64_model(tmp_path, both, photo_dir):
    out = tmp_path / "out"
    assert run(out, [photo_dir / "hopper.png"], "--photo", "--modelSize", "64") == 0
    assert model_sizes(out) == {"hopper.png": "64"}
    assert side_of(out / "completed" / "hopper.png") == 64


def test_the_128_model_is_loaded_only_for_a_face_that_needs_it(tmp_path, both, photo_dir,
                                                              monkeypatch):
    loaded, real = [], checkpoints.load_model
    monkeypatch.setattr(checkpoints, "load_model",
                        lambda source=None, *a: loaded.append(source) or real(source, *a))
    assert run(tmp_path / "out", [photo_dir / "astro.png"], "--photo") == 0
    assert loaded == [None]                                     # the default (64) model only
    assert model_sizes(tmp_path / "out") == {"astro.png": "64"}


def test_aligned_images_pick_the_model_by_their_side(tmp_path, both):
    for side in (64, 128):
        images.save_image(str(tmp_path / "faces" / f"face{side}.png"),
                          np.full((side, side, 3), 120, np.uint8))
    out = tmp_path / "out"
    assert run(out, [tmp_path / "faces"]) == 0
    assert model_sizes(out) == {"face64.png": "64", "face128.png": "128"}
    assert side_of(out / "completed" / "face128.png") == 128


def test_without_a_128_model_every_face_is_completed_at_64_as_before(tmp_path, only_64,
                                                                     photo_dir, caplog):
    out = tmp_path / "out"
    assert run(out, [photo_dir / "hopper.png"], "--photo") == 0
    assert model_sizes(out) == {"hopper.png": "64"}
    assert side_of(out / "completed" / "hopper.png") == 64
    with caplog.at_level(logging.ERROR):
        assert run(tmp_path / "other", [photo_dir], "--photo", "--modelSize", "128") == 2
    assert "--modelSize 128: no bundled 128-px face model is installed (installed: 64)" \
        in caplog.text
    assert not os.path.exists(tmp_path / "other")


def test_a_model_of_ones_own_is_used_whatever_the_face(tmp_path, both, photo_dir, caplog):
    mine = tiny_model(tmp_path / "mine.npz", 64)
    out = tmp_path / "out"
    assert run(out, [photo_dir / "hopper.png"], "--photo", "--checkpointDir", mine) == 0
    assert model_sizes(out) == {"hopper.png": "64"}
    with caplog.at_level(logging.ERROR):
        assert run(tmp_path / "other", [photo_dir / "hopper.png"], "--photo", "--checkpointDir",
                   mine, "--modelSize", "128") == 2
    assert f"--modelSize 128: the model in {mine} makes 64x64 images" in caplog.text


@pytest.mark.parametrize("value", ["100", "0", "big", "4"])
def test_model_size_must_be_auto_or_a_power_of_two(value, capsys):
    with pytest.raises(SystemExit) as stop:
        complete_cli.build_parser().parse_args(["x.png", "--modelSize", value])
    assert stop.value.code == 2 and "--modelSize" in capsys.readouterr().err


# --- --method network: the bundled completion networks by size ------------------------------

@pytest.fixture(scope="module")
def networks(tmp_path_factory):
    """Tiny completion networks under the bundled names: {64: path, 128: path}."""
    from dcgan_completion.completion_net.networks import CompletionConfig, build_completion_net
    from dcgan_completion.completion_net.weights import (BUNDLED_NETWORK_NAMES,
                                                         save_completion_net_weights)
    folder = tmp_path_factory.mktemp("networks")
    paths = {}
    for size in (64, 128):
        config = CompletionConfig(image_size=size, width=4, critic_width=4)
        paths[size] = save_completion_net_weights(config, build_completion_net(config),
                                                  str(folder / BUNDLED_NETWORK_NAMES[size]))
    return paths


@pytest.fixture
def both_networks(networks, monkeypatch):
    from dcgan_completion.completion_net import weights
    monkeypatch.setattr(weights, "BUNDLED_NETWORK", networks[64])
    assert weights.bundled_networks() == networks
    return networks


def test_the_network_is_chosen_by_the_face_too(tmp_path, both_networks, photo_dir):
    out = tmp_path / "out"
    assert complete_cli.main(["--outDir", str(out), "--method", "network", "--photo",
                              "--precision", "float32", "--blend", "none", str(photo_dir)]) == 0
    assert model_sizes(out) == {"hopper.png": "128", "astro.png": "64"}
    assert side_of(out / "completed" / "hopper.png") == 128
    assert side_of(out / "batch001" / "completed.png") > 0                  # a batch per side


# --- dcgan-web: the same choice for each uploaded photo --------------------------------------

def upload(client, photo, **form):
    data = io.BytesIO()
    Image.fromarray(photo).save(data, "PNG")
    fields = {"photo": (io.BytesIO(data.getvalue()), "photo.png"), "mask_type": "center",
              **{k: str(v) for k, v in form.items()}}
    return client.post("/api/complete", data=fields)


def test_the_web_page_picks_the_model_by_the_face(both, both_networks):
    from dcgan_completion.web import server
    models = server.Models()
    client = server.create_app(models=models).test_client()
    big = upload(client, hopper(), method="network")
    assert big.status_code == 200, big.json
    assert big.json["model_size"] == 128 and 150 < big.json["face_size"] < 230
    small = upload(client, small_astronaut(), method="network")
    assert small.status_code == 200, small.json
    assert small.json["model_size"] == 64 and 25 < small.json["face_size"] < 55
    started = upload(client, hopper(), method="dcgan", n_iter=2)
    assert started.status_code == 202 and started.json["model_size"] == 128, started.json
    for _ in range(600):
        state = client.get(f"/api/jobs/{started.json['job']}").json
        if state["status"] != "running":
            break
        time.sleep(0.1)
    assert state["status"] == "done" and state["model_size"] == 128, state.get("error")
    face = Image.open(io.BytesIO(base64.b64decode(state["face"].split(",", 1)[1])))
    assert face.size == (128, 128)


# --- dcgan-evaluate --photo: the same choice, recorded in results.json -----------------------

def evaluate(out, inputs, *extra):
    return evaluate_cli.main(["--photo", *map(str, inputs), "--outDir", str(out), "--nIter",
                              "2", "--refine", "0", "--init", "random", "--precision",
                              "float32", "--masks", "center", "--noIdentity", "--noProgress",
                              *map(str, extra)])


def results_of(out) -> dict:
    with open(out / "results.json") as f:
        return json.load(f)


def evaluated_sizes(results) -> dict:
    return {os.path.basename(r["image"]): r["model_size"]
            for r in results["model_size"]["per_image"]}


def test_evaluate_photo_picks_the_model_by_the_face(tmp_path, both, photo_dir, caplog,
                                                    monkeypatch):
    loaded, real = [], checkpoints.load_model
    monkeypatch.setattr(checkpoints, "load_model",
                        lambda source=None, *a: loaded.append(source) or real(source, *a))
    out = tmp_path / "eval"
    with caplog.at_level(logging.INFO):
        assert evaluate(out, [photo_dir], "--methods", "navier-stokes", "dcgan") == 0
    assert loaded == [None, both[128]]          # the default (64) model, then the 128 one
    results = results_of(out)
    assert evaluated_sizes(results) == {"hopper.png": 128, "astro.png": 64}
    faces = {os.path.basename(r["image"]): r["face_size"]
             for r in results["model_size"]["per_image"]}
    assert 150 < faces["hopper.png"] < 230 and 25 < faces["astro.png"] < 55
    groups = results["model_size"]["groups"]
    assert [(g["model_size"], [os.path.basename(i) for i in g["images"]]) for g in groups] \
        == [(64, ["astro.png"]), (128, ["hopper.png"])]
    assert all(g["models"] == {"dcgan": "bundled"} for g in groups)
    assert results["model_size"]["asked"] == "auto"
    for name in ("navier-stokes", "dcgan"):              # every photo scored, in input order
        assert len(results["per_image"]["center"][name]) == 2
    assert "1 photo(s) at 64 px: faces of" in caplog.text
    assert "1 photo(s) at 128 px: faces of" in caplog.text


def test_evaluate_photo_network_and_dcgan_share_the_choice(tmp_path, both, both_networks,
                                                           photo_dir):
    out = tmp_path / "eval"
    assert evaluate(out, [photo_dir], "--methods", "dcgan", "network") == 0
    results = results_of(out)
    assert evaluated_sizes(results) == {"hopper.png": 128, "astro.png": 64}
    assert [g["models"] for g in results["model_size"]["groups"]] == \
        [{"dcgan": "bundled", "network": "bundled"}] * 2
    assert set(results["summary"]["center"]) == {"dcgan", "network"}


def test_evaluate_photo_with_only_the_64_model_is_as_before(tmp_path, only_64, photo_dir):
    # The bundled 64-px model, chosen by the rule, scores exactly as that same file given
    # with --checkpointDir (the path that never chooses; a model of one's own is not
    # averaged with the bundled network, so neither is this one here).
    assert evaluate(tmp_path / "auto", [photo_dir], "--methods", "telea", "dcgan",
                    "--no-withNetwork") == 0
    assert evaluate(tmp_path / "given", [photo_dir], "--methods", "telea", "dcgan",
                    "--checkpointDir", only_64) == 0
    auto, given = results_of(tmp_path / "auto"), results_of(tmp_path / "given")
    assert evaluated_sizes(auto) == {"hopper.png": 64, "astro.png": 64}
    assert auto["per_image"] == given["per_image"] and auto["images"] == given["images"]
    assert auto["settings"] == given["settings"]
    assert [g["models"] for g in given["model_size"]["groups"]] == [{"dcgan": only_64}]


def test_evaluate_photo_refuses_a_size_it_cannot_give(tmp_path, only_64, photo_dir, caplog):
    mine = tiny_model(tmp_path / "mine.npz", 64)
    with caplog.at_level(logging.ERROR):
        assert evaluate(tmp_path / "out", [photo_dir], "--methods", "dcgan",
                        "--modelSize", "128") == 2
        assert evaluate(tmp_path / "out", [photo_dir], "--methods", "dcgan",
                        "--checkpointDir", mine, "--modelSize", "128") == 2
    assert "--modelSize 128: no bundled 128-px face model is installed (installed: 64)" \
        in caplog.text
    assert f"--modelSize 128: the model in {mine} makes 64x64 images" in caplog.text
    assert not os.path.exists(tmp_path / "out")


def test_evaluate_photo_with_a_model_of_ones_own(tmp_path, both, photo_dir):
    mine = tiny_model(tmp_path / "mine.npz", 64)
    out = tmp_path / "eval"
    assert evaluate(out, [photo_dir], "--methods", "dcgan", "--checkpointDir", mine) == 0
    results = results_of(out)
    assert evaluated_sizes(results) == {"hopper.png": 64, "astro.png": 64}
    assert results["model_size"]["groups"][0]["models"] == {"dcgan": mine}


# --- dcgan-demo: the same choice for its two photos ------------------------------------------

def demo_sizes(out) -> dict:
    return model_sizes(out / "completion")   # "" where there was no choice (one model)


def test_the_demo_picks_the_model_by_the_face(tmp_path, both, monkeypatch, caplog):
    loaded, real = [], checkpoints.load_model
    monkeypatch.setattr(checkpoints, "load_model",
                        lambda source=None, *a: loaded.append(source) or real(source, *a))
    out = tmp_path / "demo"
    with caplog.at_level(logging.INFO):
        assert demo_cli.main(["--outDir", str(out), "--nIter", "2"]) == 0
    # Both faces are larger than 64 px (the astronaut's about 93): the 64 model is not loaded.
    assert loaded == [both[128]]
    assert demo_sizes(out) == {"astronaut.png": "128", "grace_hopper.jpg": "128"}
    assert side_of(out / "completion" / "completed" / "astronaut.png") == 128
    assert "2 photo(s) at 128 px: faces of" in caplog.text
    assert sorted(os.listdir(out / "before_after")) == ["astronaut.png", "grace_hopper.png"]


def test_the_demo_with_only_the_64_model_is_as_before(tmp_path, only_64):
    out = tmp_path / "demo"
    assert demo_cli.main(["--outDir", str(out), "--nIter", "2", "--modelSize", "auto"]) == 0
    assert demo_sizes(out) == {"astronaut.png": "", "grace_hopper.jpg": ""}     # as before
    assert side_of(out / "completion" / "completed" / "grace_hopper.png") == 64
    assert sorted(n for n in os.listdir(out / "completion") if n.startswith("batch")) \
        == ["batch000"]


def test_the_demo_model_size_flag(tmp_path, both, caplog):
    out = tmp_path / "demo"
    assert demo_cli.main(["--outDir", str(out), "--nIter", "2", "--modelSize", "64"]) == 0
    assert side_of(out / "completion" / "completed" / "astronaut.png") == 64
    mine = tiny_model(tmp_path / "mine.npz", 64)
    with caplog.at_level(logging.ERROR):
        assert demo_cli.main(["--outDir", str(tmp_path / "other"), "--checkpointDir", mine,
                              "--modelSize", "128"]) == 2
    assert f"the model in {mine} makes 64x64 images (--modelSize)" in caplog.text
    assert not os.path.exists(tmp_path / "other")


def test_evaluate_aligned_faces_keep_the_default_model_unless_asked(tmp_path, both, monkeypatch):
    from conftest import write_toy_faces
    write_toy_faces(str(tmp_path / "faces"), 2, size=(128, 128))
    loaded, real = [], checkpoints.load_model
    monkeypatch.setattr(checkpoints, "load_model",
                        lambda source=None, *a: loaded.append(source) or real(source, *a))
    flags = ["--methods", "telea", "--masks", "center", "--noIdentity", "--noProgress"]
    assert evaluate_cli.main([str(tmp_path / "faces"), "--outDir", str(tmp_path / "a"),
                              *flags]) == 0
    assert loaded == [None] and "model_size" not in results_of(tmp_path / "a")    # as before
    assert evaluate_cli.main([str(tmp_path / "faces"), "--outDir", str(tmp_path / "b"),
                              "--modelSize", "128", *flags]) == 0
    assert loaded == [None, both[128]]
    groups = results_of(tmp_path / "b")["model_size"]["groups"]
    assert [(g["model_size"], g["face_sizes"]) for g in groups] == [(128, None)]
