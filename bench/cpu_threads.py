"""Compare TensorFlow thread-pool sizes for CPU training of CNN-1 and DCGAN-4.

TensorFlow fixes its thread pools when it starts, so every setting runs in its own
child process. The settings take turns over two rounds, so a slow spell of a shared
machine does not fall on one setting only. Prints images per second for each
(intra-op threads, inter-op threads) pair, where 0 means TensorFlow's default (one
thread per core), and the median of the rounds.
"""

import os
import statistics
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
SETTINGS = [(0, 0), (2, 1), (2, 2), (1, 1)]
WORKLOADS = [("CNN-1", 256), ("DCGAN-4", 32)]
NUM_ROUNDS = 2


def child(variant_name, batch_size, intra_threads, inter_threads):
    """Set the thread pools, then print one training rate (images per second)."""
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(intra_threads)
    tf.config.threading.set_inter_op_parallelism_threads(inter_threads)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from cpu_settings import images_per_second

    print(images_per_second(variant_name, batch_size, jit_compile=False))


def measure(variant_name, batch_size, intra_threads, inter_threads):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=str(REPO_ROOT))
    completed = subprocess.run(
        [sys.executable, __file__, "--child", variant_name, str(batch_size), str(intra_threads),
         str(inter_threads)], env=env, capture_output=True, text=True, check=True)
    return float(completed.stdout.strip().splitlines()[-1])


def main():
    from digitcore.device import cpu_description

    print(f"device: {cpu_description()}")
    rates = {}
    for _ in range(NUM_ROUNDS):
        for variant_name, batch_size in WORKLOADS:
            for intra_threads, inter_threads in SETTINGS:
                key = (variant_name, batch_size, intra_threads, inter_threads)
                rates.setdefault(key, []).append(measure(*key))
    print(f"{'variant':<8} {'batch':>5} {'intra':>5} {'inter':>5} {'images/s per round':>22} {'median':>7}")
    for (variant_name, batch_size, intra_threads, inter_threads), values in rates.items():
        rounds = " ".join(f"{value:.0f}" for value in values)
        print(f"{variant_name:<8} {batch_size:>5} {intra_threads:>5} {inter_threads:>5} {rounds:>22} "
              f"{statistics.median(values):>7.0f}")


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "--child":
        child(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
    else:
        sys.path.insert(0, str(REPO_ROOT))
        main()
