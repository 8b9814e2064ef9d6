"""The training engine: one entry point that trains any variant under a recipe.

``train("CNN-1")`` seeds everything, picks the device, builds the data pipeline
and the model, fits it while reporting to a ``ProgressListener``, evaluates it on
the official test set and saves the run atomically into ``out_dir``.
"""

import logging
import math
import os
import random
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from digitcore import artifacts, registry
from digitcore.data import mnist
from digitcore.progress import (
    Cancellation,
    EngineCallback,
    NonFiniteLossError,
    ProgressListener,
    TrainingCancelled,
)
from digitcore.run_record import build_run_record

logger = logging.getLogger(__name__)

SAMPLE_GRID_SIZE = 64
SAMPLE_GRID_SEED = 2024


@dataclass
class RunResult:
    variant: str
    out_dir: Path | None
    history: list
    metrics: dict
    record: dict
    model: object


def seed_everything(seed):
    """Seed Python's ``random``, NumPy and TensorFlow (through Keras)."""
    import keras

    random.seed(seed)
    np.random.seed(seed)
    keras.utils.set_random_seed(seed)


def _learning_rate(recipe, total_steps):
    import keras

    if recipe.lr_schedule == "constant":
        return recipe.learning_rate
    if recipe.lr_schedule == "cosine":
        warmup_steps = max(1, int(0.05 * total_steps))
        return keras.optimizers.schedules.CosineDecay(
            initial_learning_rate=recipe.learning_rate * 0.1,
            decay_steps=max(1, total_steps - warmup_steps),
            alpha=0.01,
            warmup_target=recipe.learning_rate,
            warmup_steps=warmup_steps,
        )
    raise ValueError(f"unknown lr_schedule {recipe.lr_schedule!r}: choose 'constant' or 'cosine'")


def _datasets(variant, recipe, seed):
    """Return (train split, validation split or None, test split)."""
    train, test = mnist.load_mnist()
    validation = None
    if recipe.use_validation:
        train, validation = mnist.train_validation_split(train)
    if recipe.train_subset:
        train = mnist.stratified_subset(train, recipe.train_subset, seed=seed)
        if validation is not None:
            validation = mnist.stratified_subset(validation, max(10, recipe.train_subset // 9), seed=seed)
    return train, validation, test


def _build_and_compile(variant, recipe, seed, total_steps, device):
    import keras

    previous_policy = keras.config.dtype_policy()
    if device.mixed_precision and variant.family == "classifier":
        keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        with device.strategy.scope():
            model = variant.build(seed)
            learning_rate = _learning_rate(recipe, total_steps)
            if variant.family == "dcgan":
                model.compile(
                    d_optimizer=keras.optimizers.Adam(learning_rate, beta_1=recipe.adam_beta_1),
                    g_optimizer=keras.optimizers.Adam(learning_rate, beta_1=recipe.adam_beta_1),
                    jit_compile=device.jit_compile,
                )
            elif variant.family == "cvae":
                model.compile(keras.optimizers.Adam(learning_rate, beta_1=recipe.adam_beta_1),
                              jit_compile=device.jit_compile)
            else:
                model.compile(
                    keras.optimizers.Adam(learning_rate, beta_1=recipe.adam_beta_1),
                    loss="sparse_categorical_crossentropy",
                    metrics=["accuracy"],
                    jit_compile=device.jit_compile,
                )
    finally:
        keras.config.set_dtype_policy(previous_policy)
    return model


def _sample_grid(model, variant, recipe):
    """Return the fixed-seed grid of the current model as uint8 (n, 28, 28), or None."""
    if variant.family == "dcgan":
        latents = np.random.default_rng(SAMPLE_GRID_SEED).normal(
            size=(SAMPLE_GRID_SIZE, model.latent_dim)).astype(np.float32)
        images = np.asarray(model.generator(latents, training=False), dtype=np.float32)
        if tuple(recipe.pixel_range) == (-1, 1):
            images = (images + 1.0) / 2.0
    elif variant.family == "cvae":
        images = np.asarray(model.decoder(latent_grid(8), training=False), dtype=np.float32)
    else:
        return None
    return np.clip(np.round(images[..., 0] * 255.0), 0, 255).astype(np.uint8)


def latent_grid(num_per_side, limit=2.0):
    """Return ``num_per_side``² 2-D latent points on an even grid over [-limit, limit]², top row first."""
    values = np.linspace(-limit, limit, num_per_side, dtype=np.float32)
    return np.array([[x, y] for y in values[::-1] for x in values], dtype=np.float32)


class _EpochRecorder:
    """Collect per-epoch logs, seconds and sample grids; keep the best validation weights."""

    def __init__(self, model, variant, recipe, listener, num_epochs):
        import keras

        recorder = self

        class Callback(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                recorder.epoch_started = time.perf_counter()

            def on_epoch_end(self, epoch, logs=None):
                recorder.end_epoch(epoch + 1, logs or {})

        self.callback = Callback()
        self.model = model
        self.variant = variant
        self.recipe = recipe
        self.listener = listener
        self.num_epochs = num_epochs
        self.history = []
        self.grids = []
        self.best_loss = math.inf
        self.best_weights = None
        self.epoch_started = time.perf_counter()

    def end_epoch(self, epoch, logs):
        epoch_seconds = time.perf_counter() - self.epoch_started
        values = {key: float(value) for key, value in logs.items()}
        if any(not math.isfinite(value) for key, value in values.items() if "loss" in key):
            return  # EngineCallback raises for this run; keep no record of a broken epoch.
        grid = _sample_grid(self.model, self.variant, self.recipe)
        if grid is not None:
            self.grids.append(grid)
        entry = {"epoch": epoch, **values, "epoch_seconds": round(epoch_seconds, 3)}
        self.history.append(entry)

        validation_loss = values.get("val_loss")
        if self.recipe.restore_best and validation_loss is not None and validation_loss < self.best_loss:
            self.best_loss = validation_loss
            self.best_weights = self.model.get_weights()

        logger.info("epoch %d/%d: %s, %.1f s", epoch, self.num_epochs,
                    ", ".join(f"{key} {value:.4f}" for key, value in values.items()), epoch_seconds)
        self.listener.on_epoch_end(epoch, self.num_epochs, values, epoch_seconds, grid)


def resolve_recipe(variant, recipe_name="fast", **overrides):
    recipe = variant.recipe(recipe_name)
    return recipe.with_overrides(**overrides)


def train(variant_name, recipe="fast", *, num_epochs=None, batch_size=None, train_subset=None,
          learning_rate=None, seed=0, out_dir=None, listener=None, cancellation=None,
          strategy=None, reference_classifier=None):
    """Train ``variant_name`` under ``recipe`` and save the run into ``out_dir``.

    Overrides that are None keep the recipe's value. ``out_dir=None`` saves nothing.
    Raises ``TrainingCancelled`` when ``cancellation`` is requested (between batches;
    nothing is written) and ``NonFiniteLossError`` when a loss becomes NaN or infinite.
    """
    from digitcore.device import configure_device
    from digitcore.evaluation import evaluate_model

    variant = registry.get_variant(variant_name)
    resolved = resolve_recipe(variant, recipe, num_epochs=num_epochs, batch_size=batch_size,
                              train_subset=train_subset, learning_rate=learning_rate)
    _validate(resolved)
    listener = listener or ProgressListener()
    cancellation = cancellation or Cancellation()
    started = time.perf_counter()

    seed_everything(seed)
    device = configure_device(strategy)
    train_split, validation_split, test_split = _datasets(variant, resolved, seed)

    # Data pipelines: labels for classifiers, images only for generators.
    with_labels = variant.family == "classifier"
    if variant.family == "dcgan":
        train_data = mnist.make_dataset(train_split, resolved.batch_size, resolved.pixel_range,
                                        labels=False, shuffle_seed=seed, drop_remainder=True)
        batches_per_pass = len(train_split) // resolved.batch_size
        steps_per_epoch = resolved.steps_per_epoch or batches_per_pass
        if steps_per_epoch > batches_per_pass or resolved.steps_per_epoch:
            train_data = train_data.repeat()
    else:
        shift_pixels = resolved.augment_shift_pixels if with_labels else 0
        train_data = mnist.make_dataset(train_split, resolved.batch_size, resolved.pixel_range,
                                        labels=with_labels, shuffle_seed=seed,
                                        shift_pixels=shift_pixels)
        steps_per_epoch = math.ceil(len(train_split) / resolved.batch_size)
    validation_data = None
    if validation_split is not None:
        validation_data = mnist.make_dataset(validation_split, 512, resolved.pixel_range,
                                             labels=with_labels)

    total_steps = steps_per_epoch * resolved.num_epochs
    model = _build_and_compile(variant, resolved, seed, total_steps, device)
    info = {"variant": variant.name, "family": variant.family, "recipe": resolved.to_dict(),
            "device": device.description, "num_params": int(model.count_params()),
            "steps_per_epoch": steps_per_epoch, "num_train_images": len(train_split)}
    logger.info("training %s (%s recipe) on %s: %d epochs of %d steps, batch %d, %d parameters",
                variant.name, resolved.name, device.description, resolved.num_epochs,
                steps_per_epoch, resolved.batch_size, info["num_params"])
    listener.on_train_begin(info)

    # Fit, with progress, cancellation and non-finite-loss checks after every batch.
    engine_callback = EngineCallback(listener, cancellation, resolved.num_epochs, steps_per_epoch)
    recorder = _EpochRecorder(model, variant, resolved, listener, resolved.num_epochs)
    fit_started = time.perf_counter()
    model.fit(train_data, epochs=resolved.num_epochs, steps_per_epoch=steps_per_epoch,
              validation_data=validation_data, callbacks=[recorder.callback, engine_callback],
              shuffle=False, verbose=0)  # the pipelines shuffle with the run's seed
    train_seconds = time.perf_counter() - fit_started

    if engine_callback.non_finite is not None:
        name, value, epoch, batch = engine_callback.non_finite
        raise NonFiniteLossError(
            f"{variant.name}: {name} became {value} at epoch {epoch}, batch {batch}; training "
            f"stopped and nothing was saved. Try a smaller learning rate (now "
            f"{resolved.learning_rate:g}) with --learning-rate."
        )
    if engine_callback.cancelled:
        raise TrainingCancelled(f"{variant.name}: training cancelled at epoch "
                                f"{engine_callback.current_epoch}; nothing was saved")
    if recorder.best_weights is not None:
        model.set_weights(recorder.best_weights)

    # Evaluate once on the official test set, then save everything atomically.
    metrics, extras = evaluate_model(model, variant, resolved, test_split, history=recorder.history,
                                     reference_classifier=reference_classifier)
    record = build_run_record(variant, resolved, seed, device, train_seconds,
                              time.perf_counter() - started, recorder.history, metrics,
                              num_params=info["num_params"], num_train_images=len(train_split))
    result = RunResult(variant.name, None, recorder.history, metrics, record, model)
    if out_dir is not None and device.is_chief:
        result.out_dir = save_run(Path(out_dir), model, recorder, metrics, record, extras)
    listener.on_train_end({"metrics": metrics, "record": record, "out_dir": result.out_dir})
    return result


def _validate(recipe):
    if recipe.num_epochs < 1:
        raise ValueError(f"num_epochs must be at least 1, got {recipe.num_epochs}")
    if recipe.batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {recipe.batch_size}")
    if recipe.learning_rate <= 0:
        raise ValueError(f"learning_rate must be positive, got {recipe.learning_rate}")
    if recipe.train_subset is not None and recipe.train_subset < max(10, recipe.batch_size):
        raise ValueError(f"train_subset must be at least max(10, batch_size={recipe.batch_size}), "
                         f"got {recipe.train_subset}")


def save_run(out_dir, model, recorder, metrics, record, extras):
    """Write the run into a fresh temporary folder, then swap it into ``out_dir``."""
    import shutil
    import tempfile

    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".tmp", dir=out_dir.parent))
    umask = os.umask(0)
    os.umask(umask)
    staging.chmod(0o777 & ~umask)  # mkdtemp makes the folder private (0700)
    try:
        artifacts.save_model(model, staging / artifacts.MODEL_FILE)
        artifacts.write_json(staging / artifacts.HISTORY_FILE, {"epochs": recorder.history})
        artifacts.write_json(staging / artifacts.METRICS_FILE, metrics)
        artifacts.write_json(staging / artifacts.RUN_FILE, record)
        if recorder.grids:
            artifacts.write_npz(staging / artifacts.SAMPLES_FILE, grids=np.stack(recorder.grids),
                                epochs=np.arange(1, len(recorder.grids) + 1))
        if extras:
            artifacts.write_npz(staging / artifacts.EXTRAS_FILE, **extras)

        # Swap: the old run stays whole until the new one is complete.
        previous = None
        if out_dir.exists():
            previous = out_dir.with_name(f".{out_dir.name}.old-{time.time_ns()}")
            out_dir.rename(previous)
        staging.rename(out_dir)
        if previous is not None:
            shutil.rmtree(previous, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out_dir
