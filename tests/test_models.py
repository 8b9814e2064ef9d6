"""Tests for the model builders: shapes, parameter counts, saving and seeded noise."""

import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from digitcore import registry
from digitcore.models import gan as gan_models
from digitcore.models import vae as vae_models

# Parameter counts of the builders (all weights, batch-norm statistics included).
# CNN-1 by hand: conv 3·3·1·32 + BN 4·32 = 416, conv 3·3·32·64 + 256 = 18,688,
# conv 3·3·64·128 + 512 = 74,240, and after three 2×2 pools Dense 3·3·128·10 + 10 = 11,530.
PARAM_COUNTS = {
    "CNN-1": 104_874,
    "CNN-2": 151_338,
    "CNN-3": 422_698,
    "FCNN-1": 24_874,
    "FCNN-2": 71_338,
    "FCNN-3": 68_394,
    "FCNN-4": 196_778,
    "CVAE-1": 742_565,
    "CVAE-2": 1_370_565,
    "CVAE-3": 834_917,
    "CVAE-4": 1_803_397,
    "CVAE-5": 1_807_365,
    "DCGAN-1": 931_010,
    "DCGAN-2": 931_010,
    "DCGAN-3": 1_457_346,
    "DCGAN-4": 1_650_338,
    "DCGAN-5": 1_650_338,
}

# (encoder, decoder) for CVAEs and (generator, discriminator) for DCGANs.
PART_PARAM_COUNTS = {
    "CVAE-1": (369_848, 372_717),
    "CVAE-2": (683_948, 686_617),
    "CVAE-3": (416_024, 418_893),
    "CVAE-4": (900_228, 903_169),
    "CVAE-5": (902_180, 905_185),
    "DCGAN-1": (849_729, 81_281),
    "DCGAN-2": (849_729, 81_281),
    "DCGAN-3": (1_243_969, 213_377),
    "DCGAN-4": (571_041, 1_079_297),
    "DCGAN-5": (571_041, 1_079_297),
}

BATCH_SIZE = 3


def _images(mnist_splits, count=BATCH_SIZE):
    return mnist_splits[1].images[:count, :, :, None].astype(np.float32) / 255.0


def _latents(count, latent_dim, seed=0):
    return np.random.default_rng(seed).normal(size=(count, latent_dim)).astype(np.float32)


def test_registry_names():
    assert list(registry.VARIANTS) == list(PARAM_COUNTS)


@pytest.mark.parametrize("name", list(PARAM_COUNTS))
def test_builder_params_and_shape(name, mnist_splits):
    variant = registry.get_variant(name)
    model = variant.build(0)
    assert model.name == name
    assert model.count_params() == PARAM_COUNTS[name]

    if variant.family == "classifier":
        probabilities = np.asarray(model(_images(mnist_splits), training=False))
        assert probabilities.shape == (BATCH_SIZE, 10)
        np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
        assert model.layers[-1].name == "output"
    elif variant.family == "cvae":
        z_mean, z_log_var = model.encoder(_images(mnist_splits), training=False)
        decoded = np.asarray(model.decoder(_latents(BATCH_SIZE, 2), training=False))
        assert model.latent_dim == 2
        assert tuple(z_mean.shape) == (BATCH_SIZE, 2)
        assert tuple(z_log_var.shape) == (BATCH_SIZE, 2)
        assert decoded.shape == (BATCH_SIZE, 28, 28, 1)
        assert decoded.min() >= 0.0
        assert decoded.max() <= 1.0
        assert tuple(model(_images(mnist_splits)).shape) == (BATCH_SIZE, 28, 28, 1)
        assert (model.encoder.count_params(), model.decoder.count_params()) == PART_PARAM_COUNTS[name]
    else:
        generated = np.asarray(model.generator(_latents(BATCH_SIZE, 100), training=False))
        scores = np.asarray(model.discriminator(generated, training=False))
        assert model.latent_dim == 100
        assert generated.shape == (BATCH_SIZE, 28, 28, 1)
        assert scores.shape == (BATCH_SIZE, 1)
        low = -1.0 if name == "DCGAN-1" else 0.0  # tanh output for DCGAN-1, sigmoid for the rest
        assert generated.min() >= low
        assert generated.max() <= 1.0
        assert (model.generator.count_params(), model.discriminator.count_params()) == PART_PARAM_COUNTS[name]


# Saving and loading in a fresh process

LOAD_SCRIPT = textwrap.dedent("""
    import sys
    from pathlib import Path

    import keras
    import numpy as np

    import digitcore

    folder = Path(sys.argv[1])
    inputs = np.load(folder / "inputs.npz")
    classifier = keras.saving.load_model(folder / "classifier.keras", safe_mode=True)
    vae = keras.saving.load_model(folder / "vae.keras", safe_mode=True)
    gan = keras.saving.load_model(folder / "gan.keras", safe_mode=True)
    np.savez(
        folder / "outputs.npz",
        probabilities=np.asarray(classifier(inputs["images"], training=False)),
        z_mean=np.asarray(vae.encoder(inputs["images"], training=False)[0]),
        decoded=np.asarray(vae.decoder(inputs["z"], training=False)),
        generated=np.asarray(gan.generator(inputs["latents"], training=False)),
    )
    print(type(vae).__name__, vae.seed, type(gan).__name__, gan.seed)
""")


@pytest.fixture(scope="module")
def loaded_outputs(tmp_path_factory, mnist_splits, subprocess_env):
    """Save one model of each family, reload them in a fresh process and return both sets of outputs."""
    folder = tmp_path_factory.mktemp("round_trip")
    classifier = registry.get_variant("CNN-1").build()
    vae = registry.get_variant("CVAE-1").build(seed=11)
    gan = registry.get_variant("DCGAN-2").build(seed=12)
    for model, file_name in [(classifier, "classifier"), (vae, "vae"), (gan, "gan")]:
        model.save(folder / f"{file_name}.keras")

    inputs = {"images": _images(mnist_splits, 8), "z": _latents(8, 2, seed=1),
              "latents": _latents(8, 100, seed=2)}
    np.savez(folder / "inputs.npz", **inputs)
    expected = {
        "probabilities": np.asarray(classifier(inputs["images"], training=False)),
        "z_mean": np.asarray(vae.encoder(inputs["images"], training=False)[0]),
        "decoded": np.asarray(vae.decoder(inputs["z"], training=False)),
        "generated": np.asarray(gan.generator(inputs["latents"], training=False)),
    }

    completed = subprocess.run([sys.executable, "-c", LOAD_SCRIPT, str(folder)], env=subprocess_env,
                               capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-3000:]
    with np.load(folder / "outputs.npz") as archive:
        actual = dict(archive)
    return expected, actual, completed.stdout.split()


@pytest.mark.parametrize("output", ["probabilities", "z_mean", "decoded", "generated"])
def test_saved_model_same_outputs(loaded_outputs, output):
    expected, actual, _ = loaded_outputs
    assert actual[output].shape == expected[output].shape
    np.testing.assert_allclose(actual[output], expected[output], atol=1e-5, rtol=0)


def test_saved_model_keeps_class_and_seed(loaded_outputs):
    _, _, printed = loaded_outputs
    assert printed == ["VAE", "11", "GAN", "12"]


# Seeded noise


def _vae_noise(vae):
    zeros = np.zeros((4, 2), np.float32)
    return np.asarray(vae.sample_latent(zeros, zeros))  # with mean 0 and log-variance 0, z is the noise


def test_vae_noise_seeded():
    first_model = vae_models.build_cvae_1(seed=5)
    second_model = vae_models.build_cvae_1(seed=5)
    other_model = vae_models.build_cvae_1(seed=6)

    first_step = _vae_noise(first_model)
    np.testing.assert_array_equal(first_step, _vae_noise(second_model))
    assert not np.allclose(first_step, _vae_noise(other_model))
    assert not np.allclose(first_step, _vae_noise(first_model))  # the next step draws new noise


def test_gan_noise_seeded():
    first_model = gan_models.build_dcgan_2(seed=5)
    second_model = gan_models.build_dcgan_2(seed=5)
    other_model = gan_models.build_dcgan_2(seed=6)

    first_step = np.asarray(first_model.sample_latents(4))
    assert first_step.shape == (4, 100)
    np.testing.assert_array_equal(first_step, np.asarray(second_model.sample_latents(4)))
    assert not np.allclose(first_step, np.asarray(other_model.sample_latents(4)))
    assert not np.allclose(first_step, np.asarray(first_model.sample_latents(4)))


@pytest.mark.parametrize("name", ["CVAE-1", "DCGAN-2"])
def test_noise_advances_in_fit(name, mnist_splits):
    model = registry.get_variant(name).build(seed=3)
    if name.startswith("DCGAN"):
        model.compile(d_optimizer=keras.optimizers.Adam(1e-4), g_optimizer=keras.optimizers.Adam(1e-4))
    else:
        model.compile(keras.optimizers.Adam(1e-4))
    state_before = np.asarray(model.noise_generator.state).copy()

    # The compiled training step must draw from the seed generator, not replay one fixed draw.
    model.fit(_images(mnist_splits, 16), epochs=1, batch_size=8, verbose=0)
    state_after_two_steps = np.asarray(model.noise_generator.state).copy()
    model.fit(_images(mnist_splits, 16), epochs=1, batch_size=8, verbose=0)
    assert not np.array_equal(state_before, state_after_two_steps)
    assert not np.array_equal(state_after_two_steps, np.asarray(model.noise_generator.state))

