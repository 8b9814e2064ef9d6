"""Compare CPU training settings for CNN-1 and DCGAN-1: XLA on or off, batch size.

Prints images per second for each setting on a fixed 6,400-image slice of the
training set, measured one after another in this process.
"""

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

NUM_IMAGES = 6_400


def images_per_second(variant_name, batch_size, jit_compile):
    import keras

    from digitcore import registry
    from digitcore.data import mnist

    variant = registry.get_variant(variant_name)
    keras.utils.set_random_seed(0)
    train, _ = mnist.load_mnist()
    subset = mnist.stratified_subset(train, NUM_IMAGES)
    model = variant.build(0)
    if variant.family == "dcgan":
        model.compile(d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
                      g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5), jit_compile=jit_compile)
        dataset = mnist.make_dataset(subset, batch_size, labels=False, shuffle_seed=0,
                                     drop_remainder=True).repeat()
        steps = NUM_IMAGES // batch_size // 4  # GAN steps are slow: time a quarter of the slice
    else:
        model.compile(keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                      jit_compile=jit_compile)
        dataset = mnist.make_dataset(subset, batch_size, shuffle_seed=0).repeat()
        steps = NUM_IMAGES // batch_size
    model.fit(dataset, epochs=1, steps_per_epoch=3, shuffle=False, verbose=0)
    started = time.perf_counter()
    model.fit(dataset, epochs=1, steps_per_epoch=steps, shuffle=False, verbose=0)
    rate = steps * batch_size / (time.perf_counter() - started)
    keras.backend.clear_session()
    return rate


def main():
    from digitcore.device import cpu_description

    print(f"device: {cpu_description()}")
    print(f"{'variant':<8} {'batch':>5} {'XLA':>4} {'images/s':>9}")
    for variant_name, batch_sizes in [("CNN-1", (128, 256, 512)), ("DCGAN-1", (32, 64))]:
        for batch_size in batch_sizes:
            for jit_compile in (False, True):
                rate = images_per_second(variant_name, batch_size, jit_compile)
                print(f"{variant_name:<8} {batch_size:>5} {'on' if jit_compile else 'off':>4} {rate:>9.0f}",
                      flush=True)


if __name__ == "__main__":
    main()
