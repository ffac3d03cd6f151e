"""The encoder (issue 13): its network, the masks it learns from, its training method,
exact resume, its weights file and where it lives, starting complete() from it, and the
dcgan-train-encoder and dcgan-complete --init commands. Tiny 16x16 models, z_dim 8."""

import json
import logging
import os

import numpy as np
import pytest
import tensorflow as tf

from dcgan_completion import checkpoints, completion, data, images
from dcgan_completion import masks as masks_lib
from dcgan_completion.cli import complete as complete_cli
from dcgan_completion.cli import evaluate as evaluate_cli
from dcgan_completion.cli import train_encoder as cli
from dcgan_completion.config import ModelConfig
from dcgan_completion.encoder import EncoderConfig, EncoderConfigError, build_encoder, encode
from dcgan_completion.model import build_discriminator, build_generator, sample_z
from dcgan_completion.train_encoder import EncoderTrainConfig, EncoderTrainer

from conftest import write_toy_faces
from test_completion import he_rescaled
from test_train import Record

S, Z = 16, 8
TINY = ModelConfig(image_size=S, channels=3, z_dim=Z, gf_dim=8, df_dim=8)
ENC = EncoderConfig(width=8)      # sizes come from the generator
# 32 faces, batch 16: 2 steps an epoch.
RUN = dict(batch_size=16, learning_rate=3e-3, seed=1)


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """A tiny DCGAN's weights file whose G makes varied images without training."""
    folder = tmp_path_factory.mktemp("model")
    tf.keras.utils.set_random_seed(0)
    G, D = build_generator(TINY), build_discriminator(TINY)
    he_rescaled(G)
    return checkpoints.save_weights_file(TINY, G, D, str(folder / "tiny.npz"), dtype=np.float32)


@pytest.fixture(scope="module")
def faces(tmp_path_factory):
    folder = tmp_path_factory.mktemp("faces")
    write_toy_faces(str(folder), 32, size=(S, S))
    return data.find_training_images(str(folder))


@pytest.fixture(scope="module")
def trained(model, faces, tmp_path_factory):
    """An encoder trained for 60 steps on the tiny generator, and its record."""
    ckpt = str(tmp_path_factory.mktemp("trained"))
    trainer = EncoderTrainer(ENC, EncoderTrainConfig(epochs=30, generator=model, **RUN), ckpt)
    record = Record()
    trainer.run.fit(faces, [record])
    return trainer, record, ckpt


# --- the network and its masks -----------------------------------------------------------------

def test_encoder_shape_range_batching_and_the_hole_unread():
    config = EncoderConfig(image_size=S, channels=3, z_dim=Z, width=8)
    E = build_encoder(config)
    for v in E.weights:                       # large weights: tanh must still bound z
        v.assign(tf.random.stateless_normal(v.shape, (0, 1)) * 2.0)
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (6, S, S, 3), dtype=np.uint8)
    m = masks_lib.MaskSpec("center", S).masks(6).values
    z = encode(E, x, m)
    assert z.shape == (6, Z) and z.dtype == np.float32
    assert np.abs(z).max() <= 1.0 and np.abs(z).max() > 0.5
    np.testing.assert_allclose(encode(E, x[2:5], m[2:5]), z[2:5], atol=1e-6)  # batch-independent
    other = np.where(m > 0, x, 255 - x).astype(np.uint8)                       # another hole content
    np.testing.assert_array_equal(encode(E, other, m), z)
    assert not any("batch_normalization" in type(layer).__name__.lower() for layer in E.layers)
    with pytest.raises(ValueError, match="z_dim must be a whole number"):
        EncoderConfig(z_dim=0)


def test_sampled_masks_cover_every_kind_and_are_per_image():
    seeds = np.array([[3, i] for i in range(60)])
    m = masks_lib.sample_masks(seeds, S).numpy()
    missing = {int(v) for v in (1 - m).sum((1, 2, 3))}
    k = masks_lib.default_patch_size(S)
    # center 8x8, left half, random 80 %, patch k x k, grid (every 4th known), full.
    assert missing == {64, 128, round(0.8 * S * S), k * k, S * S - 16, 0}
    np.testing.assert_array_equal(masks_lib.sample_masks(seeds[7:9], S).numpy(), m[7:9])
    with pytest.raises(masks_lib.MaskError, match="cannot sample masks of kinds"):
        masks_lib.sample_masks(seeds, S, kinds=("lowres",))


# --- training ----------------------------------------------------------------------------------

def test_training_lowers_the_latent_loss(trained):
    trainer, record, _ = trained
    latent = [record.steps[s]["latent_loss"] for s in sorted(record.steps)]
    assert len(latent) == 60 and np.isfinite(latent).all()
    assert np.mean(latent[-6:]) < 0.6 * np.mean(latent[:6]), latent
    rec = [record.steps[s]["rec_loss"] for s in sorted(record.steps)]
    assert np.mean(rec[-6:]) < np.mean(rec[:6])
    assert not trainer.generator.trainable


def test_a_bfloat16_encoder_trains_against_its_generator_in_bfloat16(model, faces, tmp_path):
    # The frozen G computes in the encoder's precision (about 2x faster at 128 px here).
    trainer = EncoderTrainer(ENC.replace(dtype_policy="mixed_bfloat16"),
                             EncoderTrainConfig(epochs=1, generator=model, **RUN), str(tmp_path))
    assert {layer.dtype_policy.name for layer in trainer.generator.layers
            if layer.weights} >= {"mixed_bfloat16"}
    record = Record()
    trainer.run.fit(faces, [record])
    assert len(record.steps) == 2
    assert all(np.isfinite(list(values.values())).all() for values in record.steps.values())


def test_the_encoders_start_recovers_a_hidden_z_better_than_a_random_one(trained):
    trainer, _, _ = trained
    G = trainer.generator
    D = build_discriminator(TINY)
    z_true = sample_z(16, Z, (99, 1))                       # not drawn in training
    x = images.to_uint8(G(z_true, training=False))
    m = masks_lib.MaskSpec("center", S).masks(16).values
    hole = np.broadcast_to(m == 0, x.shape)

    def hole_error(**start):
        done = completion.complete(x, m, G, D, n_iter=10, out_interval=10, blend="none", **start)
        return np.abs(done.generated.astype(float) - x)[hole].mean()

    z_init = encode(trainer.encoder, x, m)
    from_encoder, from_random = hole_error(z_init=z_init), hole_error()
    assert from_encoder < 0.7 * from_random, (from_encoder, from_random)


def test_interrupted_and_resumed_run_matches_an_uninterrupted_one(model, faces, tmp_path):
    cfg = EncoderTrainConfig(epochs=3, generator=model, **RUN)          # 6 steps
    straight = Record()
    a = EncoderTrainer(ENC, cfg, str(tmp_path / "a"))
    a.run.fit(faces, [straight])
    with pytest.raises(KeyboardInterrupt, match="stop at step 3"):
        EncoderTrainer(ENC, cfg, str(tmp_path / "b")).run.fit(faces, [Record(stop_at=3)])
    b = EncoderTrainer(ENC, cfg, str(tmp_path / "b"))
    assert b.run.restore() and int(b.run.step.numpy()) == 3
    resumed = Record()
    b.run.fit(faces, [resumed])
    assert sorted(resumed.steps) == [4, 5, 6]
    for step in resumed.steps:
        for name, value in straight.steps[step].items():
            assert resumed.steps[step][name] == pytest.approx(value, rel=1e-5, abs=1e-6), (step, name)
    x = images.to_float(np.full((2, S, S, 3), 100, np.uint8))
    ones = tf.ones((2, S, S, 1))
    np.testing.assert_allclose(a.encoder([x, ones]), b.encoder([x, ones]), atol=1e-6)
    saved = json.load(open(tmp_path / "a" / "config.json"))
    assert saved["kind"] == "encoder" and saved["encoder"]["z_dim"] == Z
    assert saved["train"]["generator"] == model


# --- z_init and restarts -----------------------------------------------------------------------

def test_restarts_start_at_z_init_and_near_it_per_image():
    z_init = np.linspace(-1, 1, 4 * Z, dtype=np.float32).reshape(4, Z)
    starts = completion.start_points(z_init, 3, seed=5).numpy()               # (12, Z)
    np.testing.assert_array_equal(starts[:4], z_init)
    assert np.abs(starts).max() <= 1.0
    moved = np.abs(starts[4:] - np.tile(z_init, (2, 1)))
    assert 0 < moved.mean() < 0.2
    later = completion.start_points(z_init[2:], 3, seed=5, first_index=2).numpy()
    np.testing.assert_array_equal(later[2:4], starts[6:8])                     # batching-free
    assert not np.array_equal(completion.start_points(z_init, 3, seed=6).numpy(), starts)


def test_complete_checks_z_init(model):
    _, G, D = checkpoints.load_model(model)
    x = np.zeros((2, S, S, 3), np.uint8)
    m = masks_lib.MaskSpec("center", S).masks(2).values
    with pytest.raises(ValueError, match=r"z_init must be finite \(B, z_dim\) = \(2, 8\)"):
        completion.complete(x, m, G, D, n_iter=1, z_init=np.zeros((2, 3)))
    done = completion.complete(x, m, G, D, n_iter=0, blend="none", z_init=np.full((2, Z), 0.5))
    np.testing.assert_allclose(done.z, 0.5)
    assert "z_init" not in completion.default_settings()


def test_the_iteration_budget_follows_the_start_point(model):
    _, G, D = checkpoints.load_model(model)
    x = np.zeros((2, S, S, 3), np.uint8)
    m = masks_lib.MaskSpec("center", S).masks(2).values
    B = completion.START_BUDGETS
    assert B["random"] == {"n_iter": 1000, "refine": 0}             # the 2016 recipe
    assert completion.default_settings()["n_iter"] is None           # "the start's budget"
    assert completion.default_settings("encoder")["refine"] == B["encoder"]["refine"]
    assert completion.with_budget({"n_iter": 5, "refine": None}, "encoder") == {
        "n_iter": 5, "refine": B["encoder"]["refine"]}               # a given value is kept
    fast = completion.complete(x, m, G, D, blend="none", out_interval=10,
                               z_init=np.zeros((2, Z)))
    assert fast.iterations[-1] == B["encoder"]["n_iter"] + B["encoder"]["refine"]
    slow = completion.complete(x, m, G, D, blend="none", out_interval=500)
    assert list(slow.iterations) == [0, 500, 1000]                   # unrefined


# --- the weights file and where an encoder lives -------------------------------------------------

def test_weights_file_round_trips_and_a_wrong_shape_is_refused(trained, model, tmp_path):
    trainer, _, ckpt = trained
    x = np.random.default_rng(3).integers(0, 256, (4, S, S, 3), dtype=np.uint8)
    m = masks_lib.MaskSpec("random", S).masks(4).values
    z = encode(trainer.encoder, x, m)
    path = checkpoints.save_encoder_weights(trainer.model_config, trainer.encoder,
                                            str(tmp_path / "e.npz"))
    config, E = checkpoints.load_encoder(path, TINY)
    assert config == trainer.model_config
    np.testing.assert_allclose(encode(E, x, m), z, atol=5e-3)                 # float16 weights
    np.testing.assert_allclose(encode(checkpoints.load_encoder(ckpt)[1], x, m), z, atol=1e-6)
    for other in (TINY.replace(z_dim=16), TINY.replace(image_size=32)):
        with pytest.raises(checkpoints.CheckpointError, match="does not fit the model: it was "
                           "trained for a generator of 16x16x3 images and z_dim 8"):
            checkpoints.load_encoder(path, other)
    with pytest.raises(checkpoints.CheckpointError, match="holds no encoder"):
        checkpoints.load_encoder(model)
    with pytest.raises(checkpoints.CheckpointError, match="holds an encoder, not a DCGAN"):
        checkpoints.load_model(path)


def test_a_smaller_models_encoder_starts_a_larger_model_on_pooled_images(tmp_path, caplog):
    # Issue 24: the 64-px encoder starts a 128-px model grown from the 64-px one until it
    # has an encoder of its own: E on the image averaged down, a block known only when all
    # of its pixels are. Only where asked for (pooled, as start_encoder asks).
    tf.keras.utils.set_random_seed(4)
    small = ENC.replace(image_size=S, z_dim=Z)
    E = build_encoder(small)
    he_rescaled(E)
    path = checkpoints.save_encoder_weights(small, E, str(tmp_path / "e.npz"), dtype=np.float32)
    big = TINY.replace(image_size=2 * S)
    with pytest.raises(checkpoints.CheckpointError, match="does not fit the model"):
        checkpoints.load_encoder(path, big)
    for other in (big.replace(z_dim=Z + 1), TINY.replace(image_size=S // 2)):
        with pytest.raises(checkpoints.CheckpointError, match="does not fit the model"):
            checkpoints.load_encoder(path, other, pooled=True)
    config, pooled = checkpoints.load_encoder(path, big, pooled=True)
    assert (config.image_size, config.pooling) == (2 * S, 2)
    assert pooled.inputs[0].shape[1:] == (2 * S, 2 * S, 3)

    rng = np.random.default_rng(5)
    x = rng.integers(0, 256, (3, 2 * S, 2 * S, 3), dtype=np.uint8)
    m = masks_lib.MaskSpec("random", 2 * S, fraction=0.1, seed=6).masks(3).values   # (3, 2S, 2S, 1)
    down_x = tf.nn.avg_pool2d(images.to_float(x), 2, 2, "VALID")              # (3, S, S, 3)
    down_m = -tf.nn.max_pool2d(-tf.constant(m, tf.float32), 2, 2, "VALID")  # known: all 4 known
    np.testing.assert_allclose(encode(pooled, x, m), E([down_x, down_m]).numpy(), atol=1e-5)
    # The hole, every pixel under it, never reaches the encoder (a block partly in the
    # hole is a hole block: 10 % of pixels missing leave about a third of the blocks).
    assert 0.2 < 1 - down_m.numpy().mean() < 0.5
    other = np.where(m > 0, x, 255 - x).astype(np.uint8)
    np.testing.assert_allclose(encode(pooled, other, m), encode(pooled, x, m), atol=1e-6)
    assert not np.allclose(encode(pooled, x, m), encode(pooled, x, np.ones_like(m)), atol=1e-3)

    big_model = checkpoints.save_weights_file(big, build_generator(big), build_discriminator(big),
                                              str(tmp_path / "big.npz"))
    with caplog.at_level(logging.INFO):
        E2, where = checkpoints.start_encoder(big_model, big, None, path)
    assert where == path
    np.testing.assert_allclose(encode(E2, x, m), encode(pooled, x, m), atol=1e-6)
    assert (f"the {S}x{S} encoder {path} reads this {2 * S}x{2 * S} model's images averaged "
            f"down to {S} px") in caplog.text
    # Saved, it is the larger model's encoder (pooling 2) and loads as one.
    again = checkpoints.save_encoder_weights(config, pooled, str(tmp_path / "big.encoder.npz"),
                                             dtype=np.float32)
    config2, E3 = checkpoints.load_encoder(again, big)
    assert config2 == config
    np.testing.assert_allclose(encode(E3, x, m), encode(pooled, x, m), atol=1e-6)
    with pytest.raises(EncoderConfigError, match="pooling must be a power of two"):
        config.replace(pooling=3)
    with pytest.raises(EncoderConfigError, match="pooling must be a power of two"):
        config.replace(pooling=8)            # 32 px / 8 = 4 px: below the 8 px the layers need


def test_a_smaller_models_encoder_is_fine_tuned_for_a_larger_model(trained, faces, tmp_path,
                                                                 caplog):
    # dcgan-train-encoder --pooling 2 --init_from the 16-px encoder, for a 32-px model:
    # the run starts from its weights exactly, trains, and its export starts the model.
    trainer, _, ckpt = trained
    big = TINY.replace(image_size=2 * S)
    tf.keras.utils.set_random_seed(0)
    G = build_generator(big)
    he_rescaled(G)
    model = checkpoints.save_weights_file(big, G, build_discriminator(big),
                                          str(tmp_path / "big.npz"), dtype=np.float32)
    run = tmp_path / "run"
    fine = EncoderTrainer(ENC.replace(pooling=2), EncoderTrainConfig(
        epochs=1, generator=model, init_from=ckpt, **RUN), str(run / "ckpt"))
    fine.start_new_run()
    rng = np.random.default_rng(1)
    x = rng.integers(0, 256, (2, 2 * S, 2 * S, 3), dtype=np.uint8)
    m = masks_lib.MaskSpec("center", 2 * S).masks(2).values
    down = tf.nn.avg_pool2d(images.to_float(x), 2, 2, "VALID")
    down_m = tf.constant(m[:, ::2, ::2])      # the centre hole is aligned to 2x2 blocks
    np.testing.assert_allclose(encode(fine.encoder, x, m),
                               trainer.encoder([down, down_m]).numpy(), atol=1e-5)
    dataset = os.path.dirname(faces[0])      # 16-px faces, read at 32 px
    exported = str(tmp_path / "big.encoder.npz")
    assert cli.main(cli_args(dataset, run, model, "--epoch", "1", "--pooling", "2",
                             "--init_from", ckpt, "--export_weights", exported)) == 0
    config, E = checkpoints.load_encoder(exported, big)
    assert (config.image_size, config.pooling) == (2 * S, 2)
    assert not np.allclose(encode(E, x, m), encode(fine.encoder, x, m), atol=1e-4)  # it trained
    assert checkpoints.start_encoder(model, big, None)[1] == exported
    caplog.clear()
    assert cli.main(cli_args(dataset, tmp_path / "plain", model, "--init_from", ckpt)) == 2
    assert "pooling 2 instead of 1" in caplog.text and not os.path.exists(tmp_path / "plain")


def test_where_an_encoder_lives(tmp_path):
    weights = str(tmp_path / "m.npz")
    assert checkpoints.encoder_locations(weights) == [str(tmp_path / "m.encoder.npz")]
    assert checkpoints.encoder_locations() == [checkpoints.BUNDLED_WEIGHTS[:-4] + ".encoder.npz"]
    assert checkpoints.find_encoder(weights) is None
    run = tmp_path / "run"
    (run / "encoder").mkdir(parents=True)
    assert checkpoints.find_encoder(str(run)) == str(run / "encoder")
    (run / "encoder.npz").write_bytes(b"")
    assert checkpoints.find_encoder(str(run)) == str(run / "encoder.npz")     # the file first
    # The bundled model's encoder ships beside it, and fits it.
    bundled = checkpoints.find_encoder()
    assert bundled == checkpoints.BUNDLED_WEIGHTS[:-4] + checkpoints.ENCODER_SUFFIX
    if checkpoints.bundled_model_available():
        config = checkpoints.load_weights_file(checkpoints.BUNDLED_WEIGHTS)[0]
        assert checkpoints.load_encoder(bundled, config)[0].z_dim == config.z_dim


def test_a_new_run_can_start_from_another_encoder(trained, model, faces, tmp_path, caplog):
    # E.g. the encoder of the model a generator was fine-tuned from: a new run starts from
    # its weights, its optimizer fresh; one of another width is refused before any step.
    trainer, _, ckpt = trained
    path = checkpoints.save_encoder_weights(trainer.model_config, trainer.encoder,
                                            str(tmp_path / "e.npz"), dtype=np.float32)
    fine = EncoderTrainer(ENC, EncoderTrainConfig(epochs=1, generator=model, init_from=path,
                                                  **RUN), str(tmp_path / "fine"))
    assert not fine.run.restore()
    fine.start_new_run()
    for a, b in zip(fine.encoder.get_weights(), trainer.encoder.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert not fine.optimizer.iterations.numpy()
    dataset = os.path.dirname(faces[0])
    assert cli.main(cli_args(dataset, tmp_path / "run", model, "--epoch", "1",
                             "--init_from", ckpt)) == 0                 # a run folder works too
    caplog.clear()
    assert cli.main(cli_args(dataset, tmp_path / "wide", model, "--width", "16",
                             "--init_from", path)) == 2
    assert f"the encoder {path} has another shape than this run's: width 8 instead of 16" \
        in caplog.text and not os.path.exists(tmp_path / "wide")


# --- the commands ------------------------------------------------------------------------------

def cli_args(dataset, run, model, *extra):
    return ["--dataset", dataset, "--model", model, "--width", "8", "--batch_size", "16",
            "--learning_rate", "3e-3", "--checkpoint_dir", str(run / "ckpt"),
            "--sample_dir", str(run / "samples"), "--log_dir", str(run / "logs"),
            "--no_progress", *extra]


def test_train_encoder_cli_writes_samples_logs_weights_and_resumes(model, faces, tmp_path, caplog):
    dataset, run = os.path.dirname(faces[0]), tmp_path / "run"
    beside = model[:-4] + ".encoder.npz"
    try:
        assert cli.main(cli_args(dataset, run, model, "--epoch", "2", "--sample_every", "2",
                                 "--export_weights", beside)) == 0
        assert sorted(os.listdir(run / "samples")) == ["train_00000002.png", "train_00000004.png"]
        grid = images.load_image(str(run / "samples" / "train_00000004.png"), size=None)
        assert grid.shape[1] == 8 * S + 9 * 2                     # 4 pairs a row
        from dcgan_completion.cli import plot_losses
        assert {"latent_loss", "rec_loss", "real_rec_loss"} <= set(
            plot_losses.read_scalars(str(run / "logs")))
        assert checkpoints.find_encoder(model) == beside
        assert checkpoints.load_encoder(beside, TINY)[0].z_dim == Z
        # dcgan-export writes the same file from the run folder, e.g. of a stopped run.
        from dcgan_completion.cli import export as export_cli
        exported = str(tmp_path / "exported.encoder.npz")
        assert export_cli.main(["--checkpoint_dir", str(run / "ckpt"), "--out", exported,
                                "--weights"]) == 0
        with np.load(beside) as a, np.load(exported) as b:
            assert sorted(a.files) == sorted(b.files)
            assert all(np.array_equal(a[k], b[k]) for k in a.files)
        # More epochs resume; another model is refused; so is a model that is not there.
        assert cli.main(cli_args(dataset, run, model, "--epoch", "3")) == 0
        assert tf.train.latest_checkpoint(str(run / "ckpt")).endswith("ckpt-6")
        assert cli.main(cli_args(dataset, run, str(tmp_path / "other.npz"))) == 2
        assert "other settings" in caplog.text
        caplog.clear()
        assert cli.main(cli_args(dataset, tmp_path / "new", str(tmp_path / "none.npz"))) == 2
        assert "none.npz" in caplog.text and "nothing was trained" in caplog.text
        assert not os.path.exists(tmp_path / "new")

        # dcgan-complete: the encoder beside the model is the default start.
        inputs = write_toy_faces(str(tmp_path / "in"), 3, size=(S, S))
        common = ["--checkpointDir", model, "--nIter", "5", "--outInterval", "5", "--noProgress",
                  "--batchSize", "2", *inputs]
        with caplog.at_level(logging.INFO):
            assert complete_cli.main([*common, "--outDir", str(tmp_path / "o1")]) == 0
        assert "starting z: the encoder" in caplog.text
        assert len(os.listdir(tmp_path / "o1" / "completed")) == 3
        # dcgan-evaluate's dcgan method completes as dcgan-complete does: from the encoder.
        caplog.clear()
        with caplog.at_level(logging.INFO):
            assert evaluate_cli.main([str(tmp_path / "in"), "--checkpointDir", model, "--nIter", "5",
                                      "--methods", "dcgan", "--masks", "center", "--noProgress",
                                      "--outDir", str(tmp_path / "e1")]) == 0
        assert "dcgan starts from the encoder" in caplog.text
        # A wrong-shape encoder given explicitly is refused, with the flag that avoids it.
        small = ModelConfig(image_size=S, channels=3, z_dim=4, gf_dim=8, df_dim=8)
        wrong = checkpoints.save_encoder_weights(
            ENC.replace(image_size=S, z_dim=4), build_encoder(ENC.replace(image_size=S, z_dim=4)),
            str(tmp_path / "wrong.npz"))
        assert small.z_dim == 4
        caplog.clear()
        assert complete_cli.main([*common, "--encoder", wrong, "--outDir", str(tmp_path / "o2")]) == 2
        assert "does not fit the model" in caplog.text and "--init random)" in caplog.text
        assert not os.path.exists(tmp_path / "o2")
    finally:
        if os.path.exists(beside):
            os.remove(beside)


def test_init_encoder_without_one_is_refused_and_random_still_completes(model, tmp_path, caplog):
    inputs = write_toy_faces(str(tmp_path / "in"), 3, size=(S, S))
    common = ["--checkpointDir", model, "--nIter", "5", "--outInterval", "5", "--noProgress",
              "--blend", "none", "--precision", "float32", *inputs]
    assert checkpoints.find_encoder(model) is None
    assert complete_cli.main([*common, "--init", "encoder", "--outDir", str(tmp_path / "o1")]) == 2
    assert "has no encoder" in caplog.text and "dcgan-train-encoder --dataset" in caplog.text
    assert f"--export_weights {model[:-4]}.encoder.npz" in caplog.text
    assert not os.path.exists(tmp_path / "o1")
    # An old model without an encoder: --init random and the default give the same completions.
    assert complete_cli.main([*common, "--init", "random", "--outDir", str(tmp_path / "r")]) == 0
    assert complete_cli.main([*common, "--outDir", str(tmp_path / "d")]) == 0
    for name in os.listdir(tmp_path / "r" / "completed"):
        np.testing.assert_array_equal(images.load_image(str(tmp_path / "r" / "completed" / name)),
                                      images.load_image(str(tmp_path / "d" / "completed" / name)))
    assert complete_cli.main(["--method", "network", "--init", "encoder", "--outDir",
                              str(tmp_path / "o3"), *inputs]) == 2
