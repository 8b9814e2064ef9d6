"""One training run on a background thread, with the progress the Train page polls.

The engine calls the ``ProgressListener`` methods of ``TrainingJob`` on the training
thread; they write under a lock, and the page reads copies through ``snapshot()``.
The page calls ``heartbeat()`` every time it polls. When nobody has polled for
``ABANDONED_AFTER_SECONDS`` (the browser tab was closed), the run cancels itself at the
next batch, so a training run stops soon after its last viewer leaves. A cancelled run writes nothing,
because the engine saves a run folder only once the run is complete.
"""

import io
import logging
import threading
import time
import zipfile
from pathlib import Path

logger = logging.getLogger(__name__)

ABANDONED_AFTER_SECONDS = 30.0
MAX_STEP_POINTS = 800
ARCHIVE_FILES = ("model.keras", "run.json")
TERMINAL_STATES = ("finished", "cancelled", "failed")


class TrainingJob:
    """Train ``variant_name`` with ``train_options`` on a daemon thread, saving into ``out_dir``.

    ``train`` is ``digitcore.engine.train`` and ``cancelled_error`` the engine's
    ``TrainingCancelled``; both are passed in so this module imports no TensorFlow.
    ``slot`` is a lock that the caller acquires before ``start()``. The run releases it
    when it ends, so the app trains one model at a time per process.
    """

    def __init__(self, train, cancelled_error, cancellation, variant_name, family, train_options,
                 out_dir, slot=None):
        self.variant_name = variant_name
        self.family = family
        self.train_options = dict(train_options)
        self.out_dir = Path(out_dir)
        self.cancellation = cancellation
        self._train = train
        self._cancelled_error = cancelled_error
        self._slot = slot
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name=f"train-{variant_name}", daemon=True)

        self.state = "starting"
        self.phase = "preparing the data and the model"
        self.fraction = 0.0
        self.info = {}
        self.step_logs = []
        self.epoch_logs = []
        self.samples = None
        self.samples_epoch = None
        self.error = None
        self.cancel_reason = None
        self.result = None
        self.archive = None
        self.started = time.monotonic()
        self.ended = None
        self._last_poll = time.monotonic()
        self._step_stride = 1

    # Control, from the page.

    def start(self):
        self._thread.start()

    def heartbeat(self):
        with self._lock:
            self._last_poll = time.monotonic()

    def cancel(self, reason="You cancelled the run."):
        with self._lock:
            self.cancel_reason = self.cancel_reason or reason
            if self.state not in TERMINAL_STATES:
                self.phase = "cancelling after the current batch"
        self.cancellation.cancel()

    def is_active(self):
        return self._thread.is_alive()

    def died_unexpectedly(self):
        """Return True when the thread is gone without recording an outcome."""
        return not self._thread.is_alive() and self.state not in TERMINAL_STATES and self._thread.ident is not None

    def snapshot(self):
        """Return a consistent copy of the progress for drawing."""
        with self._lock:
            ended = self.ended or time.monotonic()
            return {
                "state": self.state, "phase": self.phase, "fraction": self.fraction,
                "info": dict(self.info), "step_logs": list(self.step_logs),
                "epoch_logs": list(self.epoch_logs), "samples": self.samples,
                "samples_epoch": self.samples_epoch, "error": self.error,
                "cancel_reason": self.cancel_reason, "result": self.result,
                "elapsed_seconds": ended - self.started,
            }

    # The run itself, on the training thread.

    def _run(self):
        try:
            result = self._train(self.variant_name, listener=self, cancellation=self.cancellation,
                                 out_dir=self.out_dir, **self.train_options)
            archive = build_archive(result.out_dir)
            with self._lock:
                self.result = {"metrics": result.metrics, "record": result.record,
                               "history": result.history, "out_dir": result.out_dir}
                self.archive = archive
                self.state, self.phase, self.fraction = "finished", "finished", 1.0
        except self._cancelled_error:
            with self._lock:
                self.state, self.phase = "cancelled", "cancelled; nothing was saved"
                self.cancel_reason = self.cancel_reason or "The run was cancelled."
        except BaseException as error:  # The page shows it, so the thread records every failure.
            logger.exception("training %s failed", self.variant_name)
            with self._lock:
                self.state, self.phase, self.error = "failed", "failed", error
        finally:
            with self._lock:
                self.ended = time.monotonic()
            if self._slot is not None:
                self._slot.release()

    # ProgressListener methods, called by the engine on the training thread.

    def on_train_begin(self, info):
        with self._lock:
            self.info = dict(info)
            self.state, self.phase = "running", "training"

    def on_epoch_begin(self, epoch, num_epochs):
        with self._lock:
            self.phase = f"epoch {epoch} of {num_epochs}"

    def on_batch_end(self, epoch, batch, num_batches, logs):
        with self._lock:
            num_epochs = self.info.get("recipe", {}).get("num_epochs") or epoch
            step = (epoch - 1) * num_batches + batch
            self.fraction = min(1.0, step / max(1, num_batches * num_epochs))
            self.phase = f"epoch {epoch} of {num_epochs}, batch {batch} of {num_batches}"
            if step % self._step_stride == 0:
                self.step_logs.append({"step": step, "epoch": epoch, **logs})
            if len(self.step_logs) > MAX_STEP_POINTS:
                # Keep every other point, so long runs stay cheap to draw.
                self.step_logs = self.step_logs[::2]
                self._step_stride *= 2
            abandoned = time.monotonic() - self._last_poll > ABANDONED_AFTER_SECONDS
        if abandoned and not self.cancellation.requested:
            logger.warning("cancelling %s: the page has not polled it for %.0f s", self.variant_name,
                           ABANDONED_AFTER_SECONDS)
            self.cancel(f"Nobody watched the run for {ABANDONED_AFTER_SECONDS:.0f} seconds "
                        "(the page was closed), so it was cancelled.")

    def on_epoch_end(self, epoch, num_epochs, logs, epoch_seconds, samples):
        with self._lock:
            self.epoch_logs.append({"epoch": epoch, **logs, "epoch_seconds": epoch_seconds})
            if samples is not None:
                self.samples, self.samples_epoch = samples, epoch
            if epoch == num_epochs:
                self.phase = "evaluating on the 10,000 test images and saving"

    def on_train_end(self, summary):
        with self._lock:
            self.phase = "saved"


def build_archive(run_dir):
    """Return the bytes of a zip holding the run's model.keras and run.json, built in memory."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in ARCHIVE_FILES:
            path = Path(run_dir) / name
            if path.is_file():
                archive.write(path, arcname=f"{Path(run_dir).name}/{name}")
    return buffer.getvalue()
