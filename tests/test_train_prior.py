"""The options for small face sets: DiffAugment of D's inputs and a moving average of G."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from dcgan_completion import checkpoints, data
from dcgan_completion.cli import train as train_cli
from dcgan_completion.model import sample_z
from dcgan_completion.train import GANTrainer, TrainConfig

from conftest import check_first_average_step
from test_train import TINY, Record, tiny_cli_args

POLICY = "color,translation,cutout"


def test_settings_are_checked():
    assert TrainConfig(augment=" color, cutout").augment_policy == ("color", "cutout")
    assert TrainConfig().augment_policy == () and TrainConfig().ema == 0.0   # the original recipe
    with pytest.raises(ValueError, match="unknown augmentation 'flip'"):
        TrainConfig(augment="color,flip")
    for bad in (1.0, -0.1, float("nan"), None):
        with pytest.raises(ValueError, match="ema must be a finite number"):
            TrainConfig(ema=bad)
    for bad in (-1.0, float("inf"), None):
        with pytest.raises(ValueError, match="r1 must be a finite number"):
            TrainConfig(r1=bad)


def test_the_moving_average_follows_g_and_is_what_samples_and_loading_use(tmp_path, toy_dataset):
    paths = data.find_training_images(toy_dataset)
    trainer = GANTrainer(TINY, TrainConfig(epochs=1, batch_size=8, ema=0.9), str(tmp_path))
    G, ema = trainer.generator, trainer.generator_ema
    np.testing.assert_array_equal(G.get_weights()[0], ema.get_weights()[0])    # starts at G
    check_first_average_step(trainer.run, paths, G.trainable_weights, ema.trainable_weights, 0.9)
    trainer.run.fit(paths, [])
    z = sample_z(4, TINY.z_dim, (0, 1))
    assert not np.allclose(G(z, training=False), ema(z, training=False))
    # The checkpoint holds the average's own batch-norm statistics, not G's.
    inputs = keras.Model(ema.input, ema.get_layer("g_h0_reshape").output)   # what g_bn0 normalises
    batch_means = [np.mean(inputs(z, training=True), axis=(0, 1, 2)) for z in trainer.standing_z()]
    np.testing.assert_allclose(ema.get_layer("g_bn0").moving_mean, np.mean(batch_means, axis=0),
                               atol=1e-5)
    assert not np.allclose(G.get_layer("g_bn0").moving_mean, ema.get_layer("g_bn0").moving_mean)
    np.testing.assert_array_equal(trainer.sample(z), ema(z, training=False))
    loaded = checkpoints.load_models(str(tmp_path))[1]            # completion and export
    np.testing.assert_allclose(loaded(z, training=False), ema(z, training=False), atol=1e-6)


def test_augmented_run_with_average_resumes_exactly(tmp_path, toy_dataset):
    paths = data.find_training_images(toy_dataset)
    cfg = TrainConfig(epochs=2, batch_size=8, seed=3, augment=POLICY, ema=0.99, r1=1.0)
    straight = Record()
    a = GANTrainer(TINY, cfg, str(tmp_path / "a"))
    a.run.fit(paths, [straight])
    plain = Record()                                         # the augmentation changes the losses
    GANTrainer(TINY, TrainConfig(epochs=1, batch_size=8, seed=3), str(tmp_path / "c")).run.fit(paths, [plain])
    assert straight.steps[1]["d_loss"] != plain.steps[1]["d_loss"]

    with pytest.raises(KeyboardInterrupt, match="stop at step 2"):
        GANTrainer(TINY, cfg, str(tmp_path / "b")).run.fit(paths, [Record(stop_at=2)])
    b = GANTrainer(TINY, cfg, str(tmp_path / "b"))
    assert b.run.restore()
    resumed = Record()
    b.run.fit(paths, [resumed])
    for step in resumed.steps:
        for name, value in straight.steps[step].items():
            assert resumed.steps[step][name] == pytest.approx(value, rel=1e-5, abs=1e-6), (step, name)
    z = sample_z(4, TINY.z_dim, (0, 2))
    np.testing.assert_allclose(a.sample(z), b.sample(z), atol=1e-5)


def test_cli_flags_are_saved_and_kept_on_resume(tmp_path, toy_dataset, caplog):
    args = tiny_cli_args(toy_dataset, tmp_path, "--epoch", "1", "--augment", "translation,cutout",
                         "--ema", "0.95")
    assert train_cli.main(args) == 0
    saved = json.load(open(tmp_path / "ckpt" / "config.json"))["train"]
    assert saved["augment"] == "translation,cutout" and saved["ema"] == 0.95
    names = {n.split("/")[0] for n, _ in tf.train.list_variables(
        tf.train.latest_checkpoint(str(tmp_path / "ckpt")))}
    assert "generator_ema" in names
    changed = tiny_cli_args(toy_dataset, tmp_path, "--epoch", "2", "--augment", "none")
    assert train_cli.main(changed) == 2                       # a run's settings are fixed
    with pytest.raises(SystemExit) as e:
        train_cli.main(tiny_cli_args(toy_dataset, tmp_path, "--augment", "blur"))
    assert e.value.code == 2


def test_the_critic_can_have_its_own_learning_rate(tmp_path):
    trainer = GANTrainer(TINY, TrainConfig(d_learning_rate=4e-4, batch_size=4), str(tmp_path))
    assert float(trainer.d_optimizer.learning_rate) == pytest.approx(4e-4)
    assert float(trainer.g_optimizer.learning_rate) == pytest.approx(2e-4)     # the loss's default
    with pytest.raises(ValueError, match="d_learning_rate must be a finite number > 0"):
        TrainConfig(d_learning_rate=0.0)


def test_real_and_generated_images_are_augmented_alike_and_gradients_reach_g(
        tmp_path, toy_dataset, monkeypatch):
    from dcgan_completion import augment, train
    calls, original = [], augment.diff_augment

    def spy(images, policy, seed):
        calls.append(policy)
        return original(images, policy, seed)

    monkeypatch.setattr(train.augment, "diff_augment", spy)
    paths = data.find_training_images(toy_dataset)
    cfg = TrainConfig(epochs=1, batch_size=8, augment=POLICY)
    trainer = GANTrainer(TINY, cfg, str(tmp_path))
    (positions, batch), = trainer.run.epoch_dataset(paths, 0, 0, data.BadFileReport()).take(1)
    trainer.run.train_step(positions, batch)
    cfg = trainer.train_config                                # resolved: d_steps, g_steps set
    # Traced once: D's update sees fake and real through it, G's update its fakes.
    assert calls == [cfg.augment_policy] * (2 * cfg.d_steps + cfg.g_steps)
    monkeypatch.undo()
    z = sample_z(8, TINY.z_dim, (0, 3))
    with tf.GradientTape() as tape:
        seen = augment.diff_augment(trainer.generator(z, training=True), cfg.augment_policy,
                                    tf.constant([1, 2], tf.int64))
        score = tf.reduce_sum(trainer.discriminator(seen, training=True))
    grads = tape.gradient(score, trainer.generator.trainable_variables)
    assert all(g is not None and np.isfinite(g).all() for g in grads)
    assert sum(float(tf.reduce_sum(tf.abs(g))) for g in grads) > 0


@pytest.mark.parametrize("option", [dict(augment=POLICY), dict(ema=0.99), dict(r1=1.0),
                                    dict(loss="hinge"), dict(d_learning_rate=2e-3)],
                         ids=["augment", "ema", "r1", "hinge", "d_learning_rate"])
def test_each_option_still_lets_d_learn_the_toy_faces(tmp_path, toy_dataset, option):
    # As test_train's check of the plain recipe: D learns to tell the toy faces from G's,
    # here with G's rate 100x lower, so that augmentation and R1, which slow D down on
    # purpose, are judged on D's learning and not on a race with G.
    settings = {**dict(epochs=16, batch_size=8, g_steps=1, learning_rate=1e-5,
                       d_learning_rate=1e-3), **option}
    cfg = TrainConfig(**settings)
    trainer = GANTrainer(TINY, cfg, str(tmp_path))
    rec = Record()
    trainer.run.fit(data.find_training_images(toy_dataset), [rec])
    d = [rec.steps[s]["d_loss"] for s in sorted(rec.steps)]
    assert np.mean(d[-3:]) < 0.8 * np.mean(d[:3]), d


def test_configs_differ_by_what_the_network_is_not_how_it_runs():
    from dcgan_completion.config import ModelConfig
    ours = ModelConfig(dtype_policy="mixed_bfloat16", synchronized_bn=True)
    assert ours.differences(ModelConfig()) == []               # weights fit across precisions
    assert ours.differences(ModelConfig(gf_dim=32, critic_batch_norm=False)) == [
        "gf_dim 32 instead of 64", "critic_batch_norm False instead of True"]


def test_a_new_run_can_start_from_a_weights_file_and_a_resumed_one_keeps_its_own(
        tmp_path, toy_dataset, caplog):
    # The source: a tiny trained model saved as a weights file, as the bundled one is.
    paths = data.find_training_images(toy_dataset)
    source = GANTrainer(TINY, TrainConfig(epochs=1, batch_size=8, seed=5), str(tmp_path / "src"))
    source.run.fit(paths, [])
    weights = str(tmp_path / "source.npz")
    checkpoints.save_weights_file(TINY, source.generator, source.discriminator, weights,
                                  dtype=np.float32)

    cfg = TrainConfig(epochs=1, batch_size=8, ema=0.9, init_from=weights)
    fine = GANTrainer(TINY, cfg, str(tmp_path / "fine"))
    assert not fine.run.restore()
    fine.start_new_run()
    for net in ("generator", "discriminator", "generator_ema"):   # batch-norm statistics too
        mine = getattr(fine, net).get_weights()
        theirs = getattr(source, net if net != "generator_ema" else "generator").get_weights()
        assert len(mine) == len(theirs)
        for a, b in zip(mine, theirs):
            np.testing.assert_array_equal(a, b)
    assert not fine.g_optimizer.iterations.numpy()              # the optimizers start fresh

    # Through the command: the flag is saved, and a rerun resumes from its own checkpoint.
    args = tiny_cli_args(toy_dataset, tmp_path / "cli", "--epoch", "1", "--init_from", weights)
    assert train_cli.main(args) == 0
    run = tmp_path / "cli" / "ckpt"
    assert json.load(open(run / "config.json"))["train"]["init_from"] == weights
    caplog.clear()
    caplog.set_level("INFO")
    assert train_cli.main(tiny_cli_args(toy_dataset, tmp_path / "cli", "--epoch", "2",
                                        "--init_from", weights)) == 0
    assert "resumed from" in caplog.text and "resuming on" in caplog.text


def test_a_weights_file_of_another_model_is_refused_and_nothing_is_trained(
        tmp_path, toy_dataset, caplog):
    source = GANTrainer(TINY, TrainConfig(batch_size=8), str(tmp_path / "src"))
    weights = str(tmp_path / "source.npz")
    checkpoints.save_weights_file(TINY, source.generator, source.discriminator, weights)
    args = tiny_cli_args(toy_dataset, tmp_path / "run", "--gf_dim", "16", "--init_from", weights)
    assert train_cli.main(args) == 2
    assert f"{weights} holds another model than this run trains: gf_dim 8 instead of 16" \
        in caplog.text and "nothing was trained" in caplog.text
    assert not (tmp_path / "run").exists()                     # no folder left behind
    missing = tiny_cli_args(toy_dataset, tmp_path / "run", "--init_from", str(tmp_path / "no.npz"))
    assert train_cli.main(missing) == 2 and "no.npz" in caplog.text
