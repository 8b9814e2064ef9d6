"""Final evaluation of a trained model on the official test set, per family."""

import json
import logging
from pathlib import Path

import numpy as np

from digitcore import metrics as dm
from digitcore.data import mnist

logger = logging.getLogger(__name__)

GENERATED_SAMPLES = 10_000
GENERATED_SEED = 7
SILHOUETTE_SAMPLE_SIZE = 5_000
SILHOUETTE_SEED = 0
CONFIDENCE_THRESHOLD = 0.9


def gallery_dir():
    from digitcore.gallery import GALLERY_DIR

    return GALLERY_DIR


def predict(model, images, batch_size=1000):
    return np.asarray(model.predict(images, batch_size=batch_size, verbose=0), dtype=np.float32)


def evaluate_classifier(model, test_split, history=None):
    images = mnist.scale_images(test_split.images, (0, 1))
    probabilities = predict(model, images)
    predicted = probabilities.argmax(axis=1)
    labels = test_split.labels.astype(np.int64)
    picked = np.clip(probabilities[np.arange(len(labels)), labels], 1e-7, 1.0)
    validation_losses = [entry["val_loss"] for entry in history or [] if "val_loss" in entry]
    metrics = {
        "test_accuracy": dm.accuracy(labels, predicted),
        "test_loss": float(-np.mean(np.log(picked))),
        "num_test_images": int(len(labels)),
        "overfitting_epoch": dm.overfitting_epoch(validation_losses),
        "confusion_matrix": dm.confusion_matrix(labels, predicted).tolist(),
    }
    return metrics, {"test_predictions": predicted.astype(np.uint8),
                     "test_confidence": probabilities.max(axis=1).astype(np.float16)}


def evaluate_cvae(model, test_split):
    images = mnist.scale_images(test_split.images, (0, 1))
    losses = model.evaluate(images, batch_size=1000, verbose=0, return_dict=True)
    latent_means = np.asarray(model.encoder.predict(images, batch_size=1000, verbose=0)[0])
    silhouette = dm.silhouette_summary(latent_means, test_split.labels,
                                       sample_size=SILHOUETTE_SAMPLE_SIZE, seed=SILHOUETTE_SEED)
    metrics = {
        "test_loss": float(losses["loss"]),
        "test_reconstruction_loss": float(losses["reconstruction_loss"]),
        "test_kl_loss": float(losses["kl_loss"]),
        "silhouette_mean": float(silhouette["mean"]),
        "silhouette_median": float(silhouette["median"]),
        "silhouette_sample_size": int(silhouette["sample_size"]),
    }
    return metrics, {"test_latent_means": latent_means.astype(np.float32)}


def feature_model(classifier):
    """Return a model giving (penultimate features, probabilities) of a classifier."""
    import keras

    last = classifier.get_layer("output")
    features = last.input
    if len(features.shape) > 2:  # FCNNs: the class maps, flattened.
        features = keras.layers.Flatten()(features)
    return keras.Model(classifier.inputs, [features, classifier.output])


def generated_images(gan, num_images, seed, pixel_range):
    """Return ``num_images`` samples of ``gan`` scaled to [0, 1], float32 (n, 28, 28, 1)."""
    latents = np.random.default_rng(seed).normal(size=(num_images, gan.latent_dim)).astype(np.float32)
    images = np.asarray(gan.generator.predict(latents, batch_size=1000, verbose=0), dtype=np.float32)
    if tuple(pixel_range) == (-1, 1):
        images = (images + 1.0) / 2.0
    return np.clip(images, 0.0, 1.0)


def generative_report(classifier, images, real_test_images, real_train_images):
    """Score generated images with a reference classifier (all images in [0, 1])."""
    extractor = feature_model(classifier)
    fake_features, fake_probabilities = (np.asarray(x) for x in
                                         extractor.predict(images, batch_size=1000, verbose=0))
    test_features, _ = extractor.predict(real_test_images, batch_size=1000, verbose=0)
    train_features, _ = extractor.predict(real_train_images, batch_size=1000, verbose=0)
    histogram = dm.class_histogram(fake_probabilities, CONFIDENCE_THRESHOLD)
    return {
        "frechet_distance": dm.frechet_distance(fake_features, np.asarray(test_features)),
        "frechet_floor": dm.frechet_distance(np.asarray(train_features), np.asarray(test_features)),
        "inception_score": dm.inception_score(fake_probabilities),
        "confident_share": dm.confident_share(fake_probabilities, CONFIDENCE_THRESHOLD),
        "class_histogram": histogram.tolist(),
        "largest_class_share": dm.largest_class_share(histogram),
        "num_samples": int(len(images)),
        "confidence_threshold": CONFIDENCE_THRESHOLD,
    }


def reference_classifier_path():
    """Return the gallery's reference classifier model path from the manifest, or None."""
    manifest_path = gallery_dir() / "manifest.json"
    if not manifest_path.is_file():
        return None
    name = json.loads(manifest_path.read_text(encoding="utf-8")).get("reference_classifier")
    path = gallery_dir() / str(name) / "model.keras"
    return path if name and path.is_file() else None


def evaluate_dcgan(model, recipe, reference_classifier=None):
    """Evaluate a GAN with the reference classifier (a path or a model), if one is available."""
    from digitcore import artifacts

    reference_path = reference_classifier or reference_classifier_path()
    if reference_path is None:
        logger.warning("no reference classifier found (train the classifiers first); "
                       "skipping the generative metrics")
        return {"reference_classifier": None}, {}
    if isinstance(reference_path, (str, Path)):
        classifier = artifacts.load_model(reference_path)
        reference_name = Path(reference_path).parent.name
    else:
        classifier, reference_name = reference_path, reference_path.name

    train, test = mnist.load_mnist()
    images = generated_images(model, GENERATED_SAMPLES, GENERATED_SEED, recipe.pixel_range)
    real_train = mnist.scale_images(mnist.stratified_subset(train, GENERATED_SAMPLES, seed=0).images, (0, 1))
    report = generative_report(classifier, images, mnist.scale_images(test.images, (0, 1)), real_train)
    report["reference_classifier"] = reference_name
    report["generated_seed"] = GENERATED_SEED
    return report, {}


def evaluate_model(model, variant, recipe, test_split, history=None, reference_classifier=None):
    """Return (metrics dict for JSON, extra arrays to store) for any family."""
    if variant.family == "classifier":
        return evaluate_classifier(model, test_split, history)
    if variant.family == "cvae":
        return evaluate_cvae(model, test_split)
    return evaluate_dcgan(model, recipe, reference_classifier)
