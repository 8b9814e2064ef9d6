"""Time one training epoch per family on the bundled data and print the figures.

One epoch is the variant's ``fast`` recipe epoch: a full pass over the 54,000
training images for classifiers and CVAEs, 200 steps of batch 32 for DCGANs.
A first short warm-up fit traces the graphs, so the timed epoch excludes it.

    python bench/train_epoch.py                 # CNN-1, CVAE-1, DCGAN-1
    python bench/train_epoch.py --variants CNN-2 DCGAN-4
"""

import argparse
import math
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def time_epoch(variant_name):
    import keras

    from digitcore import registry
    from digitcore.data import mnist
    from digitcore.engine import _build_and_compile, seed_everything
    from digitcore.device import configure_device

    variant = registry.get_variant(variant_name)
    recipe = variant.recipe("fast")
    seed_everything(0)
    device = configure_device()
    train, _ = mnist.load_mnist()
    if recipe.use_validation:
        train, _ = mnist.train_validation_split(train)

    labels = variant.family == "classifier"
    is_gan = variant.family == "dcgan"
    dataset = mnist.make_dataset(train, recipe.batch_size, recipe.pixel_range, labels=labels,
                                 shuffle_seed=0, drop_remainder=is_gan,
                                 shift_pixels=recipe.augment_shift_pixels if labels else 0)
    if is_gan:
        dataset = dataset.repeat()
    steps = recipe.steps_per_epoch or math.ceil(len(train) / recipe.batch_size)
    model = _build_and_compile(variant, recipe, 0, steps, device)

    model.fit(dataset, epochs=1, steps_per_epoch=5, shuffle=False, verbose=0)  # warm-up: trace the graphs
    started = time.perf_counter()
    model.fit(dataset, epochs=1, steps_per_epoch=steps, shuffle=False, verbose=0)
    seconds = time.perf_counter() - started
    num_images = steps * recipe.batch_size if is_gan else len(train)
    keras.backend.clear_session()
    return device.description, num_images, seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", nargs="+", default=["CNN-1", "CVAE-1", "DCGAN-1"])
    args = parser.parse_args()

    from digitcore.run_record import library_versions

    versions = library_versions()
    print("versions: " + ", ".join(f"{name} {value}" for name, value in versions.items()))
    print(f"{'variant':<9} {'images':>7} {'seconds/epoch':>14} {'images/s':>9}  device")
    for name in args.variants:
        device, num_images, seconds = time_epoch(name)
        print(f"{name:<9} {num_images:>7} {seconds:>14.1f} {num_images / seconds:>9.0f}  {device}",
              flush=True)


if __name__ == "__main__":
    main()
