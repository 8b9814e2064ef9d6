"""Tests for digitcore.metrics: hand-computed toy cases, input errors and real MNIST checks."""

import logging
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from digitcore import metrics
from digitcore.data.mnist import load_mnist

# Official MNIST test-set label counts for digits 0-9.
MNIST_TEST_LABEL_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]

# Four points with mean 0 and sample covariance I (each coordinate: 2 * 1.5 / 3 = 1).
UNIT_CROSS = math.sqrt(1.5) * np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]])


# accuracy


def test_accuracy_half_correct():
    assert metrics.accuracy([0, 1, 2, 3], [0, 2, 1, 3]) == 0.5


def test_accuracy_all_correct_and_all_wrong():
    assert metrics.accuracy(np.array([7, 7, 1], dtype=np.uint8), [7, 7, 1]) == 1.0
    assert metrics.accuracy([1, 2, 3], [0, 0, 0]) == 0.0


def test_accuracy_integer_valued_floats():
    assert metrics.accuracy(np.array([1.0, 2.0]), [1, 3]) == 0.5


def test_accuracy_length_mismatch():
    with pytest.raises(ValueError, match="same length, got 3 and 2"):
        metrics.accuracy([0, 1, 2], [0, 1])


def test_accuracy_empty_labels():
    with pytest.raises(ValueError, match="labels is empty"):
        metrics.accuracy([], [])


def test_accuracy_probabilities_instead_of_labels():
    with pytest.raises(ValueError, match="integer labels.*argmax"):
        metrics.accuracy([0, 1], [0.2, 0.8])


def test_accuracy_two_dimensional_labels():
    with pytest.raises(ValueError, match=r"1-D array of digit labels, got shape \(2, 2\)"):
        metrics.accuracy([[0, 1], [1, 0]], [0, 1])


# confusion_matrix


def test_confusion_matrix_three_classes():
    # True 0 is predicted 0 twice. True 1 is predicted 2 once.
    # True 2 is predicted 0 once and 2 twice.
    matrix = metrics.confusion_matrix([2, 0, 2, 2, 0, 1], [0, 0, 2, 2, 0, 2], num_classes=3)
    expected = np.array([[2, 0, 0], [0, 0, 1], [1, 0, 2]])
    np.testing.assert_array_equal(matrix, expected)
    assert matrix.dtype == np.int64


def test_confusion_matrix_default_ten_digits():
    matrix = metrics.confusion_matrix([9, 3, 3], [9, 3, 8])
    assert matrix.shape == (10, 10)
    assert matrix.sum() == 3
    assert matrix[9, 9] == 1
    assert matrix[3, 3] == 1
    assert matrix[3, 8] == 1


def test_confusion_matrix_label_out_of_range():
    expected_message = r"predicted_labels must be in \[0, 2\], got values from 0 to 5"
    with pytest.raises(ValueError, match=expected_message):
        metrics.confusion_matrix([0, 1], [0, 5], num_classes=3)


def test_confusion_matrix_invalid_num_classes():
    with pytest.raises(ValueError, match="num_classes must be a positive integer, got 0"):
        metrics.confusion_matrix([0], [0], num_classes=0)


# overfitting_epoch


def test_overfitting_epoch_minimum_mid_curve():
    assert metrics.overfitting_epoch([0.9, 0.7, 0.5, 0.55, 0.6]) == 3


def test_overfitting_epoch_still_improving():
    assert metrics.overfitting_epoch([0.9, 0.7, 0.5]) == 3


def test_overfitting_epoch_tie_goes_to_earliest():
    assert metrics.overfitting_epoch([0.5, 0.4, 0.4, 0.6]) == 2


def test_overfitting_epoch_skips_nan():
    assert metrics.overfitting_epoch([float("nan"), 0.8, float("nan"), 0.6, 0.7]) == 4


def test_overfitting_epoch_empty_and_all_nan():
    assert metrics.overfitting_epoch([]) is None
    assert metrics.overfitting_epoch([float("nan"), float("nan")]) is None


def test_overfitting_epoch_min_delta():
    # 0.79 and 0.78 are below 0.8 but not by more than 0.05, so epoch 2 stays best.
    losses = [1.0, 0.8, 0.79, 0.78, 0.9]
    assert metrics.overfitting_epoch(losses) == 4
    assert metrics.overfitting_epoch(losses, min_delta=0.05) == 2


def test_overfitting_epoch_negative_min_delta():
    with pytest.raises(ValueError, match="min_delta must be a finite number >= 0, got -0.1"):
        metrics.overfitting_epoch([1.0, 0.5], min_delta=-0.1)


def test_overfitting_epoch_two_dimensional_input():
    with pytest.raises(ValueError, match=r"one loss per epoch, got shape \(2, 2\)"):
        metrics.overfitting_epoch([[1.0, 0.5], [0.4, 0.3]])


# silhouette_summary


def test_silhouette_four_points_by_formula():
    # Digit 0 at x = 0 and 1, digit 1 at x = 4 and 6.
    # s(0) = (5 - 1) / 5 = 0.8, s(1) = (4 - 1) / 4 = 0.75,
    # s(4) = (3.5 - 2) / 3.5 = 3/7, s(6) = (5.5 - 2) / 5.5 = 7/11.
    latent_means = np.array([[0.0, 0.0], [1.0, 0.0], [4.0, 0.0], [6.0, 0.0]])
    summary = metrics.silhouette_summary(latent_means, [0, 0, 1, 1])

    assert summary["mean"] == pytest.approx((0.8 + 0.75 + 3 / 7 + 7 / 11) / 4)
    assert summary["median"] == pytest.approx((7 / 11 + 0.75) / 2)
    assert summary["sample_size"] == 4


def test_silhouette_tight_far_clusters_near_one():
    rng = np.random.default_rng(0)
    cluster_a = rng.normal(0.0, 0.01, size=(50, 2))
    cluster_b = rng.normal(100.0, 0.01, size=(50, 2))
    labels = np.repeat([3, 8], 50)

    summary = metrics.silhouette_summary(np.vstack([cluster_a, cluster_b]), labels)
    assert summary["mean"] > 0.99
    assert summary["median"] > 0.99


def test_silhouette_subsample_size_and_seed():
    rng = np.random.default_rng(1)
    latent_means = rng.normal(size=(300, 2))
    labels = np.repeat([0, 1, 2], 100)

    first = metrics.silhouette_summary(latent_means, labels, sample_size=60, seed=5)
    again = metrics.silhouette_summary(latent_means, labels, sample_size=60, seed=5)
    assert first["sample_size"] == 60
    assert first == again


def test_stratified_indices_keep_class_shares():
    labels = np.repeat([0, 1], [150, 50])
    index = metrics._stratified_indices(labels, 40, seed=0)

    assert index.size == 40
    assert np.unique(index).size == 40
    np.testing.assert_array_equal(np.bincount(labels[index]), [30, 10])


def test_silhouette_single_label():
    with pytest.raises(ValueError, match="at least 2 distinct labels, got 1"):
        metrics.silhouette_summary(np.zeros((5, 2)), [4] * 5)


def test_silhouette_row_count_mismatch():
    with pytest.raises(ValueError, match="same number of rows, got 4 and 3"):
        metrics.silhouette_summary(np.zeros((4, 2)), [0, 1, 1])


def test_silhouette_one_point_per_label():
    with pytest.raises(ValueError, match="2 labels on 2 points"):
        metrics.silhouette_summary(np.array([[0.0, 0.0], [1.0, 1.0]]), [0, 1])


# gaussian_statistics and frechet_distance


def test_gaussian_statistics_two_points():
    # Deviations from the mean (2, 4) are (-1, -2) and (1, 2), and n - 1 = 1.
    mean, covariance = metrics.gaussian_statistics([[1.0, 2.0], [3.0, 6.0]])
    np.testing.assert_allclose(mean, [2.0, 4.0])
    np.testing.assert_allclose(covariance, [[2.0, 4.0], [4.0, 8.0]])


def test_gaussian_statistics_one_feature():
    mean, covariance = metrics.gaussian_statistics([[1.0], [3.0]])
    assert covariance.shape == (1, 1)
    assert covariance[0, 0] == pytest.approx(2.0)


def test_frechet_distance_diagonal_covariances():
    # S_a = I, S_b = 4 I, mean shift (3, 4): 25 + 2 * (1 + 4 - 2 * 2) = 27.
    features_b = 2.0 * UNIT_CROSS + np.array([3.0, 4.0])
    assert metrics.frechet_distance(UNIT_CROSS, features_b) == pytest.approx(27.0)


def test_frechet_distance_two_by_two_closed_form():
    # S_a = diag(1, 4) and S_b = [[2, 1], [1, 2]] do not commute. For a 2 x 2 matrix M
    # with non-negative eigenvalues, Tr(M^(1/2)) = sqrt(Tr M + 2 sqrt(det M)), and here
    # Tr(S_a S_b) = 10, det(S_a S_b) = 4 * 3 = 12. Mean shift (1, 2) adds 5.
    features_a = UNIT_CROSS @ np.diag([1.0, 2.0])
    cholesky_b = np.linalg.cholesky(np.array([[2.0, 1.0], [1.0, 2.0]]))
    features_b = UNIT_CROSS @ cholesky_b.T + np.array([1.0, 2.0])

    _, covariance_a = metrics.gaussian_statistics(features_a)
    _, covariance_b = metrics.gaussian_statistics(features_b)
    np.testing.assert_allclose(covariance_a, np.diag([1.0, 4.0]), atol=1e-12)
    np.testing.assert_allclose(covariance_b, [[2.0, 1.0], [1.0, 2.0]], atol=1e-12)

    expected = 5.0 + (5.0 + 4.0) - 2.0 * math.sqrt(10.0 + 2.0 * math.sqrt(12.0))
    assert metrics.frechet_distance(features_a, features_b) == pytest.approx(expected)


def test_frechet_distance_identical_sets_zero():
    features = np.random.default_rng(2).normal(size=(500, 5))
    assert metrics.frechet_distance(features, features) == pytest.approx(0.0, abs=1e-8)


def test_frechet_distance_symmetric():
    rng = np.random.default_rng(3)
    features_a = rng.normal(size=(200, 4))
    features_b = rng.normal(1.0, 2.0, size=(300, 4))
    forward = metrics.frechet_distance(features_a, features_b)
    backward = metrics.frechet_distance(features_b, features_a)
    assert forward == pytest.approx(backward, rel=1e-6)


def test_frechet_distance_singular_covariance():
    # 5 samples in 10 dimensions give a covariance of rank 4.
    features = np.random.default_rng(4).normal(size=(5, 10))
    distance = metrics.frechet_distance(features, features)
    assert math.isfinite(distance)
    assert distance == pytest.approx(0.0, abs=1e-6)


def test_sqrtm_fallback_adds_eps(caplog):
    # [[0, 1], [0, 0]] has no square root, so sqrtm returns inf and the fallback runs.
    nilpotent = np.array([[0.0, 1.0], [0.0, 0.0]])
    with caplog.at_level(logging.WARNING, logger="digitcore.metrics"):
        root = metrics._sqrtm_of_product(nilpotent, np.eye(2))

    assert "Adding 1e-06 to the covariance diagonals" in caplog.text
    offset = metrics.SQRTM_EPS * np.eye(2)
    expected_square = (nilpotent + offset) @ (np.eye(2) + offset)
    np.testing.assert_allclose(root @ root, expected_square, atol=1e-12)


def test_frechet_distance_feature_count_mismatch():
    with pytest.raises(ValueError, match="same number of features, got 3 and 2"):
        metrics.frechet_distance(np.zeros((4, 3)), np.zeros((4, 2)))


def test_frechet_distance_images_not_flattened():
    with pytest.raises(ValueError, match=r"features_a must be a 2-D array.*got shape \(4, 2, 2\)"):
        metrics.frechet_distance(np.zeros((4, 2, 2)), np.zeros((4, 4)))


def test_frechet_distance_nan_features():
    features = np.ones((4, 2))
    features[2, 1] = np.nan
    with pytest.raises(ValueError, match="features_b contains NaN or infinite values in 1 rows"):
        metrics.frechet_distance(np.ones((4, 2)), features)


def test_frechet_distance_single_sample():
    with pytest.raises(ValueError, match=r"at least 2 rows.*got shape \(1, 3\)"):
        metrics.frechet_distance(np.ones((1, 3)), np.ones((4, 3)))


# inception_score


def test_inception_score_uniform_is_one():
    probabilities = np.full((5, 10), 0.1)
    assert metrics.inception_score(probabilities) == pytest.approx(1.0, abs=1e-12)


def test_inception_score_balanced_one_hot_is_num_classes():
    probabilities = np.eye(4)[[0, 1, 2, 3, 3, 2, 1, 0]]
    assert metrics.inception_score(probabilities) == pytest.approx(4.0, rel=1e-9)


def test_inception_score_two_samples_by_hand():
    # p(y) = (0.75, 0.25). KL of (1, 0) is log(4/3), and KL of (0.5, 0.5) is
    # 0.5 log(2/3) + 0.5 log 2 = 0.5 log(4/3). exp of the mean KL = (4/3) ** 0.75.
    probabilities = np.array([[1.0, 0.0], [0.5, 0.5]])
    assert metrics.inception_score(probabilities) == pytest.approx((4 / 3) ** 0.75, rel=1e-9)


def test_inception_score_logits_rejected():
    with pytest.raises(ValueError, match="finite and non-negative.*not logits"):
        metrics.inception_score(np.array([[2.0, -1.0], [0.5, 0.5]]))


def test_inception_score_nan_row():
    with pytest.raises(ValueError, match="NaN or infinite values in 1 rows"):
        metrics.inception_score(np.array([[0.5, 0.5], [np.nan, 0.5]]))


def test_inception_score_row_not_summing_to_one():
    with pytest.raises(ValueError, match="row 1 sums to 0.9"):
        metrics.inception_score(np.array([[0.5, 0.5], [0.6, 0.3]]))


def test_inception_score_one_dimensional_input():
    expected_message = r"2-D array \(num_samples, num_classes\).*got shape \(3,\)"
    with pytest.raises(ValueError, match=expected_message):
        metrics.inception_score(np.array([0.2, 0.3, 0.5]))


# confident_share, class_histogram, largest_class_share

CONFIDENCE_CASE = np.array(
    [
        [0.95, 0.03, 0.02],
        [0.05, 0.92, 0.03],
        [0.50, 0.30, 0.20],
        [0.01, 0.01, 0.98],
        [0.90, 0.05, 0.05],
    ]
)


def test_confident_share_threshold_inclusive():
    # Rows 0, 1, 3 and 4 (0.90 equals the threshold) are confident.
    assert metrics.confident_share(CONFIDENCE_CASE, threshold=0.9) == pytest.approx(0.8)
    assert metrics.confident_share(CONFIDENCE_CASE, threshold=0.96) == pytest.approx(0.2)


def test_confident_share_invalid_threshold():
    with pytest.raises(ValueError, match=r"threshold must be in \(0, 1\], got 1.5"):
        metrics.confident_share(CONFIDENCE_CASE, threshold=1.5)


def test_class_histogram_counts_confident_rows():
    histogram = metrics.class_histogram(CONFIDENCE_CASE, threshold=0.9)
    np.testing.assert_array_equal(histogram, [2, 1, 1])
    assert histogram.dtype == np.int64


def test_class_histogram_none_confident():
    histogram = metrics.class_histogram(np.full((3, 10), 0.1))
    np.testing.assert_array_equal(histogram, np.zeros(10))


def test_largest_class_share_cases():
    assert metrics.largest_class_share([2, 1, 1]) == 0.5
    assert metrics.largest_class_share([0, 5, 0]) == 1.0
    assert metrics.largest_class_share([10] * 10) == pytest.approx(0.1)
    assert metrics.largest_class_share([0, 0, 0]) == 0.0


def test_largest_class_share_negative_count():
    with pytest.raises(ValueError, match=r"finite and non-negative, got \[1.0, -2.0\]"):
        metrics.largest_class_share([1, -2])


def test_largest_class_share_empty_histogram():
    with pytest.raises(ValueError, match=r"non-empty 1-D array of counts, got shape \(0,\)"):
        metrics.largest_class_share([])


# Module and real data


def test_metrics_module_imports_without_tensorflow():
    # Load the file on its own: the digitcore package itself imports Keras models.
    module_path = Path(metrics.__file__)
    code = (
        "import importlib.util, sys\n"
        "spec = importlib.util.spec_from_file_location("
        f"'standalone_metrics', {str(module_path)!r})\n"
        "module = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(module)\n"
        "print('tensorflow' in sys.modules, 'keras' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert result.stdout.split() == ["False", "False"]


def test_frechet_distance_mnist_halves_below_shuffled():
    _, test = load_mnist()
    pixels = test.images[:4000].reshape(4000, -1).astype(np.float64) / 255.0
    first_half, second_half = pixels[:2000], pixels[2000:]
    shuffled = np.random.default_rng(0).permuted(first_half, axis=1)

    real_vs_real = metrics.frechet_distance(first_half, second_half)
    real_vs_shuffled = metrics.frechet_distance(first_half, shuffled)
    assert real_vs_real > 0.0
    assert real_vs_real < 0.1 * real_vs_shuffled


def test_inception_score_mnist_true_labels():
    # One-hot true labels are a perfect classifier, so IS = exp(entropy of the label shares).
    _, test = load_mnist()
    label_shares = np.array(MNIST_TEST_LABEL_COUNTS) / 10_000
    expected = math.exp(-np.sum(label_shares * np.log(label_shares)))

    score = metrics.inception_score(np.eye(10)[test.labels])
    assert score == pytest.approx(expected, rel=1e-9)
    assert 9.9 < score < 10.0
