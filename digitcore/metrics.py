"""Metrics for classifiers, CVAE latent spaces and DCGAN samples, in NumPy, SciPy and scikit-learn.

Every function validates its input and raises ``ValueError`` naming the value received
and the value expected. Nothing here imports TensorFlow, so the app and the tests can
use these metrics without loading it.
"""

import logging
import math
import warnings

import numpy as np
import scipy.linalg
from sklearn.metrics import silhouette_samples

logger = logging.getLogger(__name__)

# Softmax outputs in float32 sum to 1 within about 1e-6. A larger gap means that the
# rows are not probabilities (logits, or outputs of the wrong layer).
ROW_SUM_TOLERANCE = 1e-3

# The fallback for the matrix square root adds this to each covariance diagonal.
SQRTM_EPS = 1e-6

# sqrtm of a product of two covariance matrices is real in exact arithmetic. Imaginary
# parts up to this share of the largest real entry are rounding error and get dropped.
IMAGINARY_TOLERANCE = 1e-3


# Input validation


def _as_label_array(values, name):
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of digit labels, got shape {array.shape}")
    if array.size == 0:
        raise ValueError(f"{name} is empty: pass at least one label")

    if array.dtype.kind in "iu":
        return array.astype(np.int64)
    if array.dtype.kind == "f" and np.all(np.isfinite(array)) and np.all(array == np.round(array)):
        return array.astype(np.int64)
    raise ValueError(
        f"{name} must contain integer labels, got dtype {array.dtype} "
        f"(first values {array[:5].tolist()}). Take argmax over the class axis first."
    )


def _check_same_length(labels, predicted_labels):
    if labels.shape != predicted_labels.shape:
        raise ValueError(
            f"labels and predicted_labels must have the same length, "
            f"got {labels.shape[0]} and {predicted_labels.shape[0]}"
        )


def _as_feature_matrix(features, name, min_rows=1):
    matrix = np.asarray(features, dtype=np.float64)
    if matrix.ndim != 2:
        raise ValueError(
            f"{name} must be a 2-D array (num_samples, num_features), got shape {matrix.shape}. "
            "Flatten each sample into one row first."
        )
    if matrix.shape[0] < min_rows or matrix.shape[1] == 0:
        raise ValueError(
            f"{name} must have at least {min_rows} rows and 1 column, got shape {matrix.shape}"
        )
    if not np.all(np.isfinite(matrix)):
        bad_rows = np.flatnonzero(~np.all(np.isfinite(matrix), axis=1))
        raise ValueError(
            f"{name} contains NaN or infinite values in {bad_rows.size} rows "
            f"(first row index {bad_rows[0]}): remove or fix those rows"
        )
    return matrix


def _as_probabilities(probabilities):
    matrix = np.asarray(probabilities, dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[0] == 0 or matrix.shape[1] < 2:
        raise ValueError(
            "probabilities must be a 2-D array (num_samples, num_classes) with at least one "
            f"row and two classes, got shape {matrix.shape}"
        )
    if not np.all(np.isfinite(matrix)):
        bad_rows = np.flatnonzero(~np.all(np.isfinite(matrix), axis=1))
        raise ValueError(
            f"probabilities contains NaN or infinite values in {bad_rows.size} rows "
            f"(first row index {bad_rows[0]}): check the classifier outputs"
        )
    if np.any(matrix < 0):
        raise ValueError(
            "probabilities must be finite and non-negative, got values from "
            f"{matrix.min()} to {matrix.max()}. Pass softmax outputs, not logits."
        )

    row_sums = matrix.sum(axis=1)
    worst_row = int(np.argmax(np.abs(row_sums - 1.0)))
    if abs(row_sums[worst_row] - 1.0) > ROW_SUM_TOLERANCE:
        raise ValueError(
            f"each row of probabilities must sum to 1 (tolerance {ROW_SUM_TOLERANCE}), "
            f"but row {worst_row} sums to {row_sums[worst_row]:.6g}. Pass softmax outputs."
        )
    return matrix


def _check_threshold(threshold):
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"threshold must be in (0, 1], got {threshold!r}")


# Classifiers


def accuracy(labels, predicted_labels):
    """Compute the share of samples whose predicted digit equals the true digit.

    Definition: (1 / n) * sum_i [predicted_labels_i == labels_i].
    Range: [0, 1]. 1.0 means every sample is right. A classifier that guesses one of
    10 balanced classes at random scores about 0.1.
    Reference: scikit-learn ``sklearn.metrics.accuracy_score`` (the unweighted case).
    """
    labels = _as_label_array(labels, "labels")
    predicted_labels = _as_label_array(predicted_labels, "predicted_labels")
    _check_same_length(labels, predicted_labels)
    return float(np.mean(labels == predicted_labels))


def confusion_matrix(labels, predicted_labels, num_classes=10):
    """Count the samples for each (true digit, predicted digit) pair.

    Definition: entry [i, j] is the number of samples with true digit i that the
    classifier labelled j. Rows are true digits, columns are predicted digits.
    Range: non-negative int64 counts that sum to n. The diagonal contains the correct
    predictions. A large off-diagonal entry [i, j] means digit i is often misread as j.
    Reference: scikit-learn ``sklearn.metrics.confusion_matrix`` (same orientation).
    """
    if int(num_classes) != num_classes or num_classes < 1:
        raise ValueError(f"num_classes must be a positive integer, got {num_classes!r}")
    num_classes = int(num_classes)

    labels = _as_label_array(labels, "labels")
    predicted_labels = _as_label_array(predicted_labels, "predicted_labels")
    _check_same_length(labels, predicted_labels)
    for name, values in (("labels", labels), ("predicted_labels", predicted_labels)):
        if values.min() < 0 or values.max() >= num_classes:
            raise ValueError(
                f"{name} must be in [0, {num_classes - 1}], got values from "
                f"{values.min()} to {values.max()}. Raise num_classes if there are more classes."
            )

    # Each (true, predicted) pair maps to one cell index of the flattened matrix.
    cell_index = labels * num_classes + predicted_labels
    counts = np.bincount(cell_index, minlength=num_classes * num_classes)
    return counts.reshape(num_classes, num_classes).astype(np.int64)


def overfitting_epoch(validation_losses, min_delta=0.0):
    """Find the 1-based epoch after which the validation loss stops improving.

    Definition: the epoch of the lowest validation loss, where an epoch counts as an
    improvement only if its loss is below the best loss so far by more than
    ``min_delta``, as in Keras ``EarlyStopping`` in "min" mode. With ``min_delta=0``
    this is the epoch of the minimum, and ties go to the earliest epoch. NaN and
    infinite losses are skipped.
    Range: 1 to len(validation_losses), or None when the list is empty or contains no
    finite loss. An epoch well before the last one means the model overfits after it,
    because training loss still falls while validation loss rises. The last epoch
    means the model was still improving when training stopped.
    Reference: Keras 3 ``keras.callbacks.EarlyStopping`` (``min_delta``: a change smaller
    than it counts as no improvement).
    """
    losses = np.asarray(validation_losses, dtype=np.float64)
    if losses.ndim != 1:
        raise ValueError(
            "validation_losses must be a 1-D sequence, one loss per epoch, "
            f"got shape {losses.shape}"
        )
    if not (math.isfinite(min_delta) and min_delta >= 0):
        raise ValueError(f"min_delta must be a finite number >= 0, got {min_delta!r}")

    best_loss = None
    best_epoch = None
    for epoch, loss in enumerate(losses, start=1):
        if not math.isfinite(loss):
            continue
        if best_loss is None or loss < best_loss - min_delta:
            best_loss = loss
            best_epoch = epoch
    return best_epoch


# CVAE latent spaces


def _stratified_indices(labels, size, seed):
    """Pick ``size`` indices so that each label keeps its share, seeded and sorted.

    Each class gets floor(size * class_count / n) indices. The indices left over go
    to the classes with the largest fractional parts, ties to the smaller label.
    """
    classes, class_counts = np.unique(labels, return_counts=True)
    exact_quotas = size * class_counts / labels.size
    quotas = np.floor(exact_quotas).astype(np.int64)
    leftover = size - int(quotas.sum())
    by_fraction = np.argsort(-(exact_quotas - quotas), kind="stable")
    quotas[by_fraction[:leftover]] += 1

    rng = np.random.default_rng(seed)
    chosen = [
        rng.choice(np.flatnonzero(labels == label), size=quota, replace=False)
        for label, quota in zip(classes, quotas)
    ]
    return np.sort(np.concatenate(chosen))


def silhouette_summary(latent_means, labels, sample_size=5000, seed=0):
    """Summarise how well the digits separate in a latent space by their silhouettes.

    Definition: for point i with mean Euclidean distance a(i) to the other points of
    its digit and mean distance b(i) to the points of the nearest other digit, the
    silhouette is s(i) = (b(i) - a(i)) / max(a(i), b(i)). It is computed on a seeded
    stratified subsample of ``sample_size`` points (the whole set if it is smaller),
    because the cost grows with the square of the number of points.
    Range: each s(i) and the summaries are in [-1, 1]. Near 1: digits form tight,
    well-separated clusters. Near 0: clusters overlap. Negative: points sit closer to
    another digit than to their own.
    Returns: {"mean": float, "median": float, "sample_size": int (points used)}.
    Reference: scikit-learn ``sklearn.metrics.silhouette_samples``, which computes
    s(i) and defines it for 2 <= number of labels <= number of points - 1.
    """
    latent_means = _as_feature_matrix(latent_means, "latent_means")
    labels = _as_label_array(labels, "labels")
    if labels.shape[0] != latent_means.shape[0]:
        raise ValueError(
            f"latent_means and labels must have the same number of rows, "
            f"got {latent_means.shape[0]} and {labels.shape[0]}"
        )
    if int(sample_size) != sample_size or sample_size < 1:
        raise ValueError(f"sample_size must be a positive integer, got {sample_size!r}")
    num_labels = np.unique(labels).size
    if num_labels < 2:
        raise ValueError(
            f"silhouette needs at least 2 distinct labels, got {num_labels} "
            f"(label {labels[0]} only)"
        )

    if labels.size > sample_size:
        index = _stratified_indices(labels, int(sample_size), seed)
        latent_means = latent_means[index]
        labels = labels[index]

    num_points = labels.size
    num_labels = np.unique(labels).size
    if not 2 <= num_labels <= num_points - 1:
        raise ValueError(
            f"silhouette needs 2 <= distinct labels <= points - 1, got {num_labels} labels "
            f"on {num_points} points. Raise sample_size or pass more points per label."
        )

    scores = silhouette_samples(latent_means, labels, metric="euclidean")
    return {
        "mean": float(np.mean(scores)),
        "median": float(np.median(scores)),
        "sample_size": int(num_points),
    }


# DCGAN samples: Fréchet distance


def gaussian_statistics(features):
    """Fit a Gaussian to feature vectors: return the mean and the sample covariance.

    Definition: mean = (1 / n) * sum_i x_i and covariance = (1 / (n - 1)) *
    sum_i (x_i - mean)(x_i - mean)^T, as float64 arrays of shapes (d,) and (d, d).
    Range: the mean is any vector, and the covariance is symmetric positive semi-definite.
    Reference: NumPy ``numpy.cov`` with ``rowvar=False``.
    """
    features = _as_feature_matrix(features, "features", min_rows=2)
    mean = features.mean(axis=0)
    covariance = np.atleast_2d(np.cov(features, rowvar=False))
    return mean, covariance


def _sqrtm_of_product(covariance_a, covariance_b):
    """Return the real matrix square root of covariance_a @ covariance_b.

    Singular covariances, common when features outnumber samples or some features
    are constant, can make sqrtm return infinite values or large imaginary parts.
    The fallback then adds SQRTM_EPS to both diagonals and logs a warning.
    """
    with warnings.catch_warnings():
        # The singular-matrix warning of sqrtm is checked below on the result instead.
        warnings.simplefilter("ignore", scipy.linalg.LinAlgWarning)
        root = scipy.linalg.sqrtm(covariance_a @ covariance_b)

        if not _is_usable_root(root):
            logger.warning(
                "sqrtm of the covariance product failed with non-finite values or large "
                "imaginary parts. Adding %g to the covariance diagonals and retrying. "
                "Use more samples than features to avoid this.",
                SQRTM_EPS,
            )
            offset = SQRTM_EPS * np.eye(covariance_a.shape[0])
            root = scipy.linalg.sqrtm((covariance_a + offset) @ (covariance_b + offset))

    if not np.all(np.isfinite(root)):
        raise ValueError(
            "the Fréchet distance is undefined: sqrtm of the covariance product is not "
            "finite even after adding SQRTM_EPS to the diagonals. Check the features for "
            "extreme values or use more samples."
        )
    if np.iscomplexobj(root):
        imaginary_size = np.max(np.abs(root.imag))
        if not _is_usable_root(root):
            logger.warning(
                "sqrtm of the covariance product has imaginary parts up to %g. "
                "Keeping the real part only.",
                imaginary_size,
            )
        root = root.real
    return root


def _is_usable_root(root):
    if not np.all(np.isfinite(root)):
        return False
    if not np.iscomplexobj(root):
        return True
    real_size = max(1.0, float(np.max(np.abs(root.real))))
    return float(np.max(np.abs(root.imag))) <= IMAGINARY_TOLERANCE * real_size


def frechet_distance(features_a, features_b):
    """Compute the Fréchet distance between Gaussians fitted to two feature sets.

    Definition: with means mu_a, mu_b and covariances S_a, S_b from
    ``gaussian_statistics``, d^2 = ||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2)).
    On Inception-network features this is the FID. Here the features usually come from
    the penultimate layer of a reference MNIST classifier.
    Range: [0, inf), in squared feature units. 0 means identical means and covariances.
    Lower is closer. Values depend on the feature extractor and on the number of
    samples, because the finite-sample estimate is biased (Chong and Forsyth (2020),
    "Effectively Unbiased FID and Inception Score and where to find them"). So compare
    only numbers computed with the same features and sample counts, for example
    against a real-vs-real floor.
    Reference: Heusel et al. (2017), "GANs Trained by a Two Time-Scale Update Rule
    Converge to a Local Nash Equilibrium", NeurIPS 2017. The closed form for Gaussians
    is from Dowson and Landau (1982), "The Fréchet distance between multivariate
    normal distributions", Journal of Multivariate Analysis.
    """
    features_a = _as_feature_matrix(features_a, "features_a", min_rows=2)
    features_b = _as_feature_matrix(features_b, "features_b", min_rows=2)
    if features_a.shape[1] != features_b.shape[1]:
        raise ValueError(
            f"features_a and features_b must have the same number of features, "
            f"got {features_a.shape[1]} and {features_b.shape[1]}"
        )

    mean_a, covariance_a = gaussian_statistics(features_a)
    mean_b, covariance_b = gaussian_statistics(features_b)
    mean_term = float(np.sum((mean_a - mean_b) ** 2))

    root = _sqrtm_of_product(covariance_a, covariance_b)
    trace_term = float(np.trace(covariance_a) + np.trace(covariance_b) - 2.0 * np.trace(root))

    # Rounding can push the distance of identical sets slightly below 0.
    return max(mean_term + trace_term, 0.0)


# DCGAN samples: scores from a reference classifier


def inception_score(probabilities, eps=1e-12):
    """Compute the classifier-based Inception score of generated samples.

    Definition: IS = exp(E_x KL(p(y|x) || p(y))), where p(y|x) is a row of the
    reference classifier's softmax outputs and p(y) is the mean row. ``eps`` is added
    inside the logarithms so that zero probabilities stay finite.
    Range: [1, num_classes], up to an error of about num_classes * eps. 1 means every
    sample gets the same class distribution (no confident, distinct digits).
    num_classes means every sample is classified with certainty and the classes are
    used equally. A real, class-balanced set scored by an accurate classifier comes
    close to num_classes. The upper limit for a given set is exp(entropy of p(y)).
    Reference: Salimans et al. (2016), "Improved Techniques for Training GANs",
    NeurIPS 2016.
    """
    if not (math.isfinite(eps) and eps >= 0):
        raise ValueError(f"eps must be a finite number >= 0, got {eps!r}")
    probabilities = _as_probabilities(probabilities)

    marginal = probabilities.mean(axis=0)
    log_ratio = np.log(probabilities + eps) - np.log(marginal + eps)
    kl_per_sample = np.sum(probabilities * log_ratio, axis=1)
    return float(np.exp(np.mean(kl_per_sample)))


def confident_share(probabilities, threshold=0.9):
    """Compute the share of samples whose top class probability is at least ``threshold``.

    Definition: (1 / n) * sum_i [max_k p(k | x_i) >= threshold].
    Range: [0, 1]. A high share means the reference classifier reads most samples as a
    clear digit. A low share means many samples are ambiguous or unreadable.
    Reference: the maximum softmax probability as a confidence score, Hendrycks and
    Gimpel (2017), "A Baseline for Detecting Misclassified and Out-of-Distribution
    Examples in Neural Networks", ICLR 2017.
    """
    _check_threshold(threshold)
    probabilities = _as_probabilities(probabilities)
    return float(np.mean(probabilities.max(axis=1) >= threshold))


def class_histogram(probabilities, threshold=0.9):
    """Count the confidently classified samples per predicted digit.

    Definition: entry k is the number of samples whose top class is k with probability
    >= ``threshold``. Ties for the top class go to the smaller class index.
    Range: int64 counts of length num_classes, summing to at most n. Counts that are
    roughly even mean the generator covers all digits. A few large counts and many
    near-zero counts are a sign of mode collapse.
    Reference: the class marginal p(y) of the Inception score, Salimans et al. (2016),
    "Improved Techniques for Training GANs", NeurIPS 2016. Here it is counted over
    confident samples only, so unreadable samples do not spread over every class.
    """
    _check_threshold(threshold)
    probabilities = _as_probabilities(probabilities)
    num_classes = probabilities.shape[1]

    is_confident = probabilities.max(axis=1) >= threshold
    predicted = probabilities[is_confident].argmax(axis=1)
    return np.bincount(predicted, minlength=num_classes).astype(np.int64)


def largest_class_share(histogram):
    """Compute the largest class count divided by the total count.

    Definition: max_k h_k / sum_k h_k, and 0.0 when all counts are 0.
    Range: [1 / num_classes, 1] for a non-empty histogram. 1 / num_classes means the
    samples are spread evenly (0.1 for 10 digits). 1 means every counted sample is the
    same digit (full mode collapse).
    Reference: a one-number summary of ``class_histogram``, whose docstring gives the source.
    """
    counts = np.asarray(histogram, dtype=np.float64)
    if counts.ndim != 1 or counts.size == 0:
        raise ValueError(
            f"histogram must be a non-empty 1-D array of counts, got shape {counts.shape}"
        )
    if not np.all(np.isfinite(counts)) or np.any(counts < 0):
        raise ValueError(
            f"histogram counts must be finite and non-negative, got {counts.tolist()}"
        )

    total = counts.sum()
    if total == 0:
        return 0.0
    return float(counts.max() / total)
