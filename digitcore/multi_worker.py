"""Let Keras 3.15's ``fit()`` run under ``MultiWorkerMirroredStrategy``.

With TensorFlow 2.21 and Keras 3.15.1, ``fit()`` under this strategy fails before the
first step, in two places of Keras's TensorFlow trainer (keras-team/keras#20585):

1. Before building, it averages the first distributed batch across the workers only to
   learn the batch's shapes and dtypes, and the collective reduction rejects it.
2. After every step it averages the step's metric values with ``axis=0``, which fails
   for the scalar values that every ``train_step`` returns.

``enable_multi_worker_fit()`` replaces both with what they are meant to do: take the
shapes from this worker's own share of the batch, and average the scalars across the
workers. Gradients are untouched: the optimizer still sums them across all replicas.
It checks the Keras version first, so a Keras release that changes these internals
raises a clear error instead of training wrongly.
"""

import keras

SUPPORTED_KERAS_VERSION = "3.15.1"
_enabled = False


def _local_value(value):
    """Return this worker's first local value of a distributed value, or ``value`` itself."""
    import tensorflow as tf

    if isinstance(value, tf.distribute.DistributedValues):
        return value.values[0]
    return value


def enable_multi_worker_fit():
    """Patch Keras's TensorFlow trainer for multi-worker runs. Calling it again does nothing."""
    global _enabled
    if _enabled:
        return
    if keras.__version__ != SUPPORTED_KERAS_VERSION:
        raise RuntimeError(
            f"multi-worker training was checked with Keras {SUPPORTED_KERAS_VERSION}, but Keras "
            f"{keras.__version__} is installed: install keras=={SUPPORTED_KERAS_VERSION} or train "
            f"without TF_CONFIG"
        )
    from keras.src import tree
    from keras.src.backend.tensorflow import trainer as tf_trainer

    original_build = tf_trainer.TensorFlowTrainer._maybe_symbolic_build
    original_reduce = tf_trainer.reduce_per_replica

    def maybe_symbolic_build(self, iterator=None, data_batch=None):
        if iterator is not None and tf_trainer._collective_all_reduce_multi_worker(self.distribute_strategy):
            for _, _, batches in iterator:
                data_batch = tree.map_structure(_local_value, next(batches))
                break
            iterator = None
        return original_build(self, iterator=iterator, data_batch=data_batch)

    def reduce_per_replica(values, strategy, reduction):
        if reduction in ("auto", "mean") and tf_trainer._collective_all_reduce_multi_worker(strategy):
            return tree.map_structure(lambda value: strategy.reduce("MEAN", value, axis=None), values)
        return original_reduce(values, strategy, reduction)

    tf_trainer.TensorFlowTrainer._maybe_symbolic_build = maybe_symbolic_build
    tf_trainer.reduce_per_replica = reduce_per_replica
    _enabled = True
