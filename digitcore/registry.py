"""The 17 model variants: what each one is, how to build it and how to train it."""

import dataclasses
from dataclasses import dataclass
from typing import Callable

from digitcore import recipes

FAMILIES = ("classifier", "cvae", "dcgan")


@dataclass(frozen=True)
class Variant:
    name: str
    family: str
    summary: str
    technical: str
    change_from_baseline: str
    builder_name: str
    recipes: dict

    def build(self, seed=0):
        """Build a fresh, untrained model of this variant."""
        return _builder(self.builder_name)(seed) if self.family != "classifier" else _builder(
            self.builder_name)()

    def recipe(self, name="fast"):
        if name not in self.recipes:
            raise ValueError(f"unknown recipe {name!r}: choose one of {', '.join(self.recipes)}")
        return self.recipes[name]


def _builder(qualified_name) -> Callable:
    import importlib

    module_name, function_name = qualified_name.rsplit(".", 1)
    return getattr(importlib.import_module(module_name), function_name)


_CLS = "digitcore.models.classifiers"
_VAE = "digitcore.models.vae"
_GAN = "digitcore.models.gan"
_CLASSIFIER_BLOCK = (
    "Each conv layer is Conv2D ('same' padding, no bias) → batch norm → ReLU; 2×2 max pooling "
    "as listed; dropout 0.25 before the last layer; softmax over 10 digits."
)
_FCNN_HEAD = (
    "The feature maps are max-pooled once more, to 3×3, so that each position of the last conv "
    "layer sees most of the digit. That layer has one channel per digit and a ReLU, and global "
    "average pooling turns each channel into one score, so no dense layer is used."
)
_CVAE_BLOCK = (
    "Encoder convs use 3×3 kernels with ReLU, two of them stride 2 (28 → 14 → 7); the decoder "
    "mirrors them with transposed convs and ends in a sigmoid. Loss: binary cross-entropy summed "
    "over pixels plus the KL divergence to N(0, I). Latent space: 2-D."
)
_DCGAN_BLOCK = (
    "Generator: Dense 7·7·C (LeakyReLU 0.2) → transposed convs, each followed by batch norm and "
    "LeakyReLU 0.2 → a last transposed conv to one channel. Discriminator: stride-2 convs with "
    "LeakyReLU 0.2 and batch norm after all but the first → Dense 1 sigmoid. Latent: 100-D N(0, I)."
)


def _classifier(name, summary, technical, change, builder, seed_recipe, fast_epochs=None,
                fast_shift_pixels=None):
    fast = recipes.FAST_CLASSIFIER.with_overrides(num_epochs=fast_epochs,
                                                  augment_shift_pixels=fast_shift_pixels)
    return Variant(name, "classifier", summary, f"{technical} {_CLASSIFIER_BLOCK}", change,
                   f"{_CLS}.{builder}", {"fast": fast, "seed": seed_recipe})


def _cvae(name, summary, technical, change, builder):
    return Variant(name, "cvae", summary, f"{technical} {_CVAE_BLOCK}", change, f"{_VAE}.{builder}",
                   {"fast": recipes.FAST_CVAE, "seed": recipes.SEED_CVAE})


def _dcgan(name, summary, technical, change, builder, epoch_factor=1, pixel_range=(0, 1),
           fast_epochs=None):
    fast = dataclasses.replace(recipes.FAST_DCGAN, pixel_range=pixel_range,
                               num_epochs=(fast_epochs or recipes.FAST_DCGAN.num_epochs) * epoch_factor)
    seed = dataclasses.replace(recipes.SEED_DCGAN, pixel_range=pixel_range,
                               num_epochs=recipes.SEED_DCGAN.num_epochs * epoch_factor)
    return Variant(name, "dcgan", summary, f"{technical} {_DCGAN_BLOCK}", change,
                   f"{_GAN}.{builder}", {"fast": fast, "seed": seed})


VARIANTS = {
    variant.name: variant
    for variant in [
        _classifier(
            "CNN-1", "A small network that scans the image with three layers of pattern detectors, "
            "then makes one decision.",
            "Conv 32 → pool → Conv 64 → pool → Conv 128 → pool → Dense 10 (3×3 kernels).",
            "The baseline classifier.", "build_cnn_1", recipes.SEED_CNN),
        _classifier(
            "CNN-2", "CNN-1 with two more layers of pattern detectors.",
            "Conv 32 → pool → Conv 32 → pool → Conv 64 → Conv 64 → Conv 128 → pool → Dense 10 "
            "(3×3 kernels). Pooling comes early so the extra layers work on 7×7 maps, which "
            "keeps an epoch on a 2-core CPU close to CNN-1's.",
            "Five conv layers instead of three.", "build_cnn_2", recipes.SEED_CNN, fast_epochs=8,
            fast_shift_pixels=2),
        _classifier(
            "CNN-3", "CNN-1 with two extra decision layers after the pattern detectors.",
            "Conv 32 → pool → Conv 64 → pool → Conv 128 → pool → Dense 256 → Dense 128 → Dense 10 "
            "(3×3 kernels, ReLU dense layers).",
            "Three fully connected layers instead of one.", "build_cnn_3", recipes.SEED_CNN),
        _classifier(
            "FCNN-1", "Pattern detectors only: the last layer draws one map per digit and the "
            "brightest map wins.",
            f"Conv 32 → pool → Conv 64 → pool → pool → Conv 10 → ReLU → global average pool (3×3 kernels). "
            f"{_FCNN_HEAD}",
            "No fully connected layer: global pooling instead.", "build_fcnn_1", recipes.SEED_FCNN,
            fast_epochs=8),
        _classifier(
            "FCNN-2", "FCNN-1 with two more layers of pattern detectors.",
            f"Conv 32 → pool → Conv 32 → pool → Conv 64 → Conv 64 → pool → Conv 10 → ReLU → global "
            f"average pool (3×3 kernels). {_FCNN_HEAD}",
            "Five conv layers and global pooling.", "build_fcnn_2", recipes.SEED_FCNN, fast_epochs=4),
        _classifier(
            "FCNN-3", "FCNN-1 with larger detectors that each see a 5×5 patch.",
            f"Conv 32 → pool → Conv 64 → pool → pool → Conv 10 → ReLU → global average pool (5×5 kernels). "
            f"{_FCNN_HEAD}",
            "5×5 kernels instead of 3×3, global pooling.", "build_fcnn_3", recipes.SEED_FCNN),
        _classifier(
            "FCNN-4", "FCNN-2 with larger detectors that each see a 5×5 patch.",
            f"Conv 32 → pool → Conv 32 → pool → Conv 64 → Conv 64 → pool → Conv 10 → ReLU → global "
            f"average pool (5×5 kernels). {_FCNN_HEAD}",
            "Five conv layers with 5×5 kernels, global pooling.", "build_fcnn_4", recipes.SEED_FCNN),
        _cvae(
            "CVAE-1", "Squeezes each digit into just two numbers, then redraws it from them.",
            "Encoder: Conv 32 (s2) → Conv 64 (s2) → Conv 64 → Dense 100 → (mean, log-variance) "
            "of a 2-D latent; decoder mirrors it.",
            "The baseline VAE.", "build_cvae_1"),
        _cvae(
            "CVAE-2", "CVAE-1 with a wider layer before the two numbers.",
            "As CVAE-1 with a 200-unit hidden layer on each side.",
            "200-unit hidden layer instead of 100.", "build_cvae_2"),
        _cvae(
            "CVAE-3", "CVAE-1 with more layers of pattern detectors.",
            "Encoder: Conv 32 → Conv 32 (s2) → Conv 64 → Conv 64 (s2) → Conv 64 → Dense 100; "
            "decoder mirrors it.",
            "Five conv layers in encoder and decoder.", "build_cvae_3"),
        _cvae(
            "CVAE-4", "CVAE-1 with three thinking layers on each side of the two numbers.",
            "As CVAE-1 with hidden dense layers 256 → 128 → 64 (encoder) and 64 → 128 → 256 "
            "(decoder).",
            "Three hidden FC layers on each side.", "build_cvae_4"),
        _cvae(
            "CVAE-5", "CVAE-1 with four thinking layers on each side of the two numbers.",
            "As CVAE-1 with hidden dense layers 256 → 128 → 64 → 32 (encoder) and 32 → 64 → 128 "
            "→ 256 (decoder).",
            "Four hidden FC layers on each side.", "build_cvae_5"),
        _dcgan(
            "DCGAN-1", "Two networks play a game: one forges digits from random noise, the other "
            "tries to spot the forgeries.",
            "Generator: Dense 7·7·128 → ConvT 128 (3×3, s2) → ConvT 64 (3×3, s2) → ConvT 1 (3×3) "
            "→ tanh, with images scaled to [-1, 1]. Discriminator: Conv 64 (3×3, s2) → Conv 128 "
            "(3×3, s2) → Dense 1.",
            "The baseline GAN (tanh output).", "build_dcgan_1", pixel_range=(-1, 1)),
        _dcgan(
            "DCGAN-2", "DCGAN-1 drawing with pixel values between 0 and 1.",
            "As DCGAN-1 with a sigmoid output and images in [0, 1].",
            "Sigmoid output instead of tanh.", "build_dcgan_2"),
        _dcgan(
            "DCGAN-3", "DCGAN-2 with larger brushes: each layer sees a 5×5 patch.",
            "As DCGAN-2 with 5×5 kernels everywhere.", "5×5 kernels instead of 3×3.",
            "build_dcgan_3"),
        _dcgan(
            "DCGAN-4", "DCGAN-3 with one more layer in both the forger and the critic.",
            "Generator: Dense 7·7·64 → ConvT 64 (5×5) → ConvT 64 (5×5, s2) → ConvT 32 (5×5, s2) "
            "→ ConvT 1 (5×5) → sigmoid. Discriminator: Conv 32 → Conv 64 → Conv 128 → Conv 256 "
            "(5×5, s2) → Dense 1. The study gave no widths for this variant; these narrower ones "
            "make a training step cost about the same as DCGAN-1's on a CPU.",
            "Four conv layers in generator and discriminator.", "build_dcgan_4", fast_epochs=20),
        _dcgan(
            "DCGAN-5", "DCGAN-4 given twice as long to practise.",
            "Same network as DCGAN-4.", "Twice the training epochs of DCGAN-4.", "build_dcgan_5",
            epoch_factor=2, fast_epochs=20),
    ]
}


def get_variant(name):
    """Return the ``Variant`` called ``name`` (exact name, such as ``CNN-1``)."""
    try:
        return VARIANTS[name]
    except KeyError:
        raise ValueError(
            f"unknown variant {name!r}: choose one of {', '.join(VARIANTS)}"
        ) from None


def variants_of(family):
    if family not in FAMILIES:
        raise ValueError(f"unknown family {family!r}: choose one of {', '.join(FAMILIES)}")
    return [variant for variant in VARIANTS.values() if variant.family == family]
