"""Train the gallery into ``trained/`` and keep its manifest up to date.

The manifest (``trained/manifest.json``) is what the app reads: per variant its
final metrics, parameter count, training minutes, CPU inference latency and the
study's reported numbers. It is rewritten atomically after every variant, so an
interrupted reproduction keeps every variant finished so far.
"""

import datetime
import logging
import time
from pathlib import Path

import numpy as np

from digitcore import artifacts, registry
from digitcore.gallery import GALLERY_DIR, MANIFEST_FILE
from digitcore.reported import FRECHET_NOTE, REPORTED

logger = logging.getLogger(__name__)

LATENCY_REPEATS = 30
# Below this test accuracy the reference classifier's own errors dominate the GAN metrics it
# scores. The value is a judgement, not a measured limit.
MIN_USEFUL_REFERENCE_ACCURACY = 0.9


def measure_latency_ms(model, family, batch_sizes=(1, 100), repeats=LATENCY_REPEATS):
    """Median milliseconds of one forward pass (classify, encode or generate) per batch size."""
    import tensorflow as tf

    if family == "dcgan":
        network, input_shape = model.generator, (model.latent_dim,)
    elif family == "cvae":
        network, input_shape = model.encoder, (28, 28, 1)
    else:
        network, input_shape = model, (28, 28, 1)
    forward = tf.function(lambda x: network(x, training=False), reduce_retracing=True)

    latencies = {}
    for batch_size in batch_sizes:
        inputs = tf.constant(np.random.default_rng(0).random((batch_size, *input_shape), dtype=np.float32))
        forward(inputs)  # trace and warm up
        timings = []
        for _ in range(repeats):
            started = time.perf_counter()
            np.asarray(forward(inputs))
            timings.append((time.perf_counter() - started) * 1000.0)
        latencies[f"batch_{batch_size}"] = round(float(np.median(timings)), 3)
    return latencies


def read_manifest(gallery_dir=GALLERY_DIR):
    path = Path(gallery_dir) / MANIFEST_FILE
    if not path.is_file():
        return {"variants": {}}
    return artifacts.read_json(path)


def manifest_entry(variant, result, latency_ms):
    record = result.record
    return {
        "family": variant.family,
        "summary": variant.summary,
        "num_params": record["num_params"],
        "recipe": record["recipe"]["name"],
        "num_epochs": record["recipe"]["num_epochs"],
        "train_minutes": round(record["train_seconds"] / 60.0, 2),
        "device": record["device"],
        "latency_ms": latency_ms,
        "metrics": {key: value for key, value in result.metrics.items() if key != "confusion_matrix"},
        "reported": REPORTED.get(variant.name, {}),
    }


def best_cnn(manifest):
    """Return the name of the most accurate CNN in the manifest, or None."""
    scores = {name: entry["metrics"].get("test_accuracy", -1.0)
              for name, entry in manifest["variants"].items() if name.startswith("CNN-")}
    return max(scores, key=scores.get) if scores else None


def write_manifest(manifest, gallery_dir):
    from digitcore.run_record import library_versions

    manifest["updated_at"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    manifest["versions"] = library_versions()
    manifest["frechet_note"] = FRECHET_NOTE
    order = list(registry.VARIANTS)
    manifest["variants"] = dict(sorted(manifest["variants"].items(), key=lambda item: order.index(item[0])))
    artifacts.write_json(Path(gallery_dir) / MANIFEST_FILE, manifest)


def reproduce(family=None, recipe="fast", num_epochs=None, train_subset=None, gallery_dir=None,
              listener=None, seed=0):
    """Train every variant of ``family`` (or all 17, classifiers first) into the gallery."""
    from digitcore.engine import train

    gallery_dir = Path(gallery_dir or GALLERY_DIR)
    families = [family] if family else list(registry.FAMILIES)
    manifest = read_manifest(gallery_dir)
    manifest["recipe"] = recipe
    started = time.perf_counter()

    for family_name in families:
        reference = None
        if family_name == "dcgan":
            reference_name = manifest.get("reference_classifier")
            reference = gallery_dir / str(reference_name) / artifacts.MODEL_FILE
            if not reference_name or not reference.is_file():
                raise FileNotFoundError(
                    f"no reference classifier in {gallery_dir}: run `python -m digitcore reproduce "
                    f"--family classifier` first")
            reference_accuracy = manifest["variants"][reference_name]["metrics"]["test_accuracy"]
            if reference_accuracy < MIN_USEFUL_REFERENCE_ACCURACY:
                logger.warning("the reference classifier %s reads only %.1f%% of the test digits, so "
                               "the GAN metrics that it scores say little about sample quality",
                               reference_name, 100 * reference_accuracy)
        for variant in registry.variants_of(family_name):
            logger.info("== %s ==", variant.name)
            result = train(variant.name, recipe, num_epochs=num_epochs, train_subset=train_subset,
                           seed=seed, out_dir=gallery_dir / variant.name, listener=listener,
                           reference_classifier=reference)
            latency = measure_latency_ms(result.model, variant.family)
            manifest["variants"][variant.name] = manifest_entry(variant, result, latency)
            if family_name == "classifier":
                manifest["reference_classifier"] = best_cnn(manifest)
            write_manifest(manifest, gallery_dir)

    total_minutes = (time.perf_counter() - started) / 60.0
    manifest["last_reproduce"] = {"families": families, "recipe": recipe,
                                  "wall_minutes": round(total_minutes, 2)}
    write_manifest(manifest, gallery_dir)
    logger.info("reproduced %s in %.1f minutes into %s", ", ".join(families), total_minutes, gallery_dir)
    return manifest
