"""The run record: everything needed to trace a number back to how it was made."""

import datetime
import platform
import sys


def library_versions():
    import keras
    import numpy
    import sklearn
    import tensorflow

    import digitcore

    return {
        "digitcore": digitcore.__version__,
        "python": sys.version.split()[0],
        "tensorflow": tensorflow.__version__,
        "keras": keras.__version__,
        "numpy": numpy.__version__,
        "scikit-learn": sklearn.__version__,
        "platform": platform.platform(),
    }


def build_run_record(variant, recipe, seed, device, train_seconds, total_seconds, history, metrics,
                     num_params, num_train_images):
    from digitcore.data import mnist

    return {
        "variant": variant.name,
        "family": variant.family,
        "recipe": recipe.to_dict(),
        "seed": seed,
        "num_params": num_params,
        "num_train_images": num_train_images,
        "data_file": mnist.MNIST_PATH.name,
        "data_sha256": mnist.MNIST_SHA256,
        "versions": library_versions(),
        "device": device.description,
        "num_replicas": device.num_replicas,
        "jit_compile": device.jit_compile,
        "mixed_precision": device.mixed_precision and variant.family == "classifier",
        "epoch_seconds": [entry["epoch_seconds"] for entry in history],
        "train_seconds": round(train_seconds, 2),
        "total_seconds": round(total_seconds, 2),
        "finished_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "final_metrics": {key: value for key, value in metrics.items() if not isinstance(value, list)},
    }
