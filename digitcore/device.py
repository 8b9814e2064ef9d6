"""Choosing where and how to train: CPU, one GPU, several GPUs or several machines.

On CPU, XLA is off. With TensorFlow 2.21 on a 2-core AMD EPYC (AVX2 only), CNN-1
at batch 256 trained at about 1,250 images/s without XLA and 310 images/s with it.
``bench/cpu_settings.py`` repeats that measurement. Thread pools keep TensorFlow's
defaults: ``bench/cpu_threads.py`` found no faster setting there, and one thread per
pool was 35-40% slower. On a GPU, XLA is on and classifiers train with mixed
bfloat16 precision.
"""

import json
import logging
import os
import platform
from dataclasses import dataclass

logger = logging.getLogger(__name__)


@dataclass
class DeviceSetup:
    strategy: object
    description: str
    num_replicas: int
    jit_compile: bool
    mixed_precision: bool
    is_chief: bool = True


def cpu_description():
    name = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as stream:
            for line in stream:
                if line.startswith("model name"):
                    name = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"CPU ({name}, {os.cpu_count()} cores)"


def _worker_role():
    """Return (is_chief, num_workers) from ``TF_CONFIG``, or (True, 1) when it is unset."""
    raw = os.environ.get("TF_CONFIG")
    if not raw:
        return True, 1
    try:
        config = json.loads(raw)
        cluster = config["cluster"]
        task = config["task"]
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(f"TF_CONFIG is not valid JSON with 'cluster' and 'task': {raw!r} ({error})") from None
    num_workers = len(cluster.get("worker", [])) + len(cluster.get("chief", []))
    is_chief = task.get("type") == "chief" or (
        task.get("type") == "worker" and task.get("index") == 0 and "chief" not in cluster
    )
    return is_chief, num_workers


def configure_device(strategy=None):
    """Pick the distribution strategy and the fastest settings for the devices found.

    - ``TF_CONFIG`` set: ``MultiWorkerMirroredStrategy`` over the listed machines.
    - several GPUs: ``MirroredStrategy`` over all of them.
    - one GPU or none: the default strategy.
    A ``strategy`` passed in is used as it is (tests use two logical CPUs).
    """
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    on_gpu = bool(gpus)
    is_chief, num_workers = _worker_role()

    if strategy is not None:
        description = f"{type(strategy).__name__} over {strategy.num_replicas_in_sync} replicas"
    elif os.environ.get("TF_CONFIG"):
        from digitcore.multi_worker import enable_multi_worker_fit

        enable_multi_worker_fit()
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
        description = f"MultiWorkerMirroredStrategy over {num_workers} workers"
    elif len(gpus) > 1:
        strategy = tf.distribute.MirroredStrategy()
        description = f"MirroredStrategy over {len(gpus)} GPUs"
    else:
        strategy = tf.distribute.get_strategy()
        description = "1 GPU" if on_gpu else cpu_description()
        if not on_gpu:
            logger.warning("no GPU found, training on CPU")

    if on_gpu:
        names = sorted({tf.config.experimental.get_device_details(gpu).get("device_name", "GPU")
                        for gpu in gpus})
        description = f"{description} ({', '.join(names)})"

    return DeviceSetup(
        strategy=strategy,
        description=description,
        num_replicas=strategy.num_replicas_in_sync,
        jit_compile=on_gpu,
        mixed_precision=on_gpu,
        is_chief=is_chief,
    )
