"""One progress interface for every front end, and cancellation between batches.

The engine reports to a ``ProgressListener``; the command line turns the calls
into a progress bar and log lines, the app into live charts. ``Cancellation`` is
a thread-safe flag that the engine checks after every batch.
"""

import threading

import keras


class TrainingCancelled(Exception):
    """Training stopped because cancellation was requested; nothing was saved."""


class NonFiniteLossError(RuntimeError):
    """Training stopped because a loss became NaN or infinite."""


class Cancellation:
    def __init__(self):
        self._event = threading.Event()

    def cancel(self):
        self._event.set()

    @property
    def requested(self):
        return self._event.is_set()


class ProgressListener:
    """Override any of these; every call is made on the training thread.

    ``epoch`` counts from 1. ``logs`` maps metric names to floats. ``samples``
    is a uint8 array (n, 28, 28) of the fixed-seed grid for generators, else None.
    """

    def on_train_begin(self, info):
        pass

    def on_epoch_begin(self, epoch, num_epochs):
        pass

    def on_batch_end(self, epoch, batch, num_batches, logs):
        pass

    def on_epoch_end(self, epoch, num_epochs, logs, epoch_seconds, samples):
        pass

    def on_train_end(self, summary):
        pass


class EngineCallback(keras.callbacks.Callback):
    """Bridge Keras callbacks to a ``ProgressListener``, checking cancellation and losses."""

    def __init__(self, listener, cancellation, num_epochs, num_batches, sample_grid=None):
        super().__init__()
        self.listener = listener or ProgressListener()
        self.cancellation = cancellation
        self.num_epochs = num_epochs
        self.num_batches = num_batches
        self.sample_grid = sample_grid
        self.current_epoch = 0
        self.cancelled = False
        self.non_finite = None

    def on_epoch_begin(self, epoch, logs=None):
        self.current_epoch = epoch + 1
        self.listener.on_epoch_begin(self.current_epoch, self.num_epochs)

    def on_train_batch_end(self, batch, logs=None):
        logs = {key: float(value) for key, value in (logs or {}).items()}
        for name, value in logs.items():
            if "loss" in name and not _is_finite(value):
                self.non_finite = (name, value, self.current_epoch, batch + 1)
                self.model.stop_training = True
                return
        self.listener.on_batch_end(self.current_epoch, batch + 1, self.num_batches, logs)
        if self.cancellation is not None and self.cancellation.requested:
            self.cancelled = True
            self.model.stop_training = True


def _is_finite(value):
    return value == value and value not in (float("inf"), float("-inf"))
