"""Tests for distributed training on CPU: two replicas in one process, and two workers on loopback."""

import json
import math
import socket
import subprocess
import sys
import textwrap


TIMEOUT_SECONDS = 300

# TensorFlow fixes its logical devices when it first initialises, so the script splits
# the CPU in two before digitcore (and with it Keras) is imported.
MIRRORED_SCRIPT = textwrap.dedent("""
    import json
    import sys

    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()])

    from digitcore.engine import train

    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    result = train("CNN-1", num_epochs=1, train_subset=512, batch_size=64, strategy=strategy,
                   out_dir=sys.argv[1])
    print(json.dumps({"loss": result.history[0]["loss"], "test_accuracy": result.metrics["test_accuracy"]}))
""")


# The VAE and GAN have their own train_step. The optimizer sums the replicas' gradients,
# so each replica's loss must be divided by the number of replicas.
GENERATIVE_SCRIPT = textwrap.dedent("""
    import json

    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()])

    from digitcore.engine import train
    from digitcore.models.replicas import replica_share

    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    shares = strategy.experimental_local_results(strategy.run(replica_share, args=(tf.constant(3.0),)))
    losses = {}
    for name in ("CVAE-1", "DCGAN-2"):
        result = train(name, num_epochs=1, train_subset=512, batch_size=64, strategy=strategy)
        losses[name] = result.history[0]
    print(json.dumps({"shares": [float(share) for share in shares], "unscaled": float(replica_share(3.0)),
                      "losses": losses}))
""")

def _free_ports(count):
    """Return ``count`` distinct TCP ports on 127.0.0.1 that were free a moment ago."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def test_mirrored_two_cpu_replicas(tmp_path, subprocess_env):
    out_dir = tmp_path / "CNN-1"
    completed = subprocess.run([sys.executable, "-c", MIRRORED_SCRIPT, str(out_dir)], env=subprocess_env,
                               capture_output=True, text=True, timeout=TIMEOUT_SECONDS)
    assert completed.returncode == 0, completed.stderr[-3000:]

    summary = json.loads(completed.stdout.strip().splitlines()[-1])
    record = json.loads((out_dir / "run.json").read_text(encoding="utf-8"))
    assert record["num_replicas"] == 2
    assert record["device"] == "MirroredStrategy over 2 replicas"
    assert record["recipe"]["batch_size"] == 64
    history = json.loads((out_dir / "history.json").read_text(encoding="utf-8"))
    assert history["epochs"][0]["loss"] == summary["loss"]
    assert math.isfinite(summary["loss"])
    assert 0.0 <= summary["test_accuracy"] <= 1.0
    assert (out_dir / "model.keras").is_file()


def test_generative_models_train_on_two_cpu_replicas(subprocess_env):
    completed = subprocess.run([sys.executable, "-c", GENERATIVE_SCRIPT], env=subprocess_env,
                               capture_output=True, text=True, timeout=TIMEOUT_SECONDS)
    assert completed.returncode == 0, completed.stderr[-3000:]

    summary = json.loads(completed.stdout.strip().splitlines()[-1])
    assert summary["shares"] == [1.5, 1.5]
    assert summary["unscaled"] == 3.0
    vae, gan = summary["losses"]["CVAE-1"], summary["losses"]["DCGAN-2"]
    assert math.isfinite(vae["loss"])
    assert vae["loss"] > 0
    assert math.isfinite(gan["d_loss"])
    assert math.isfinite(gan["g_loss"])


# Keras 3.15's fit() needs digitcore.multi_worker's patch under this strategy; the
# engine applies it when TF_CONFIG is set.
def test_two_workers_on_loopback(tmp_path, subprocess_env):
    ports = _free_ports(2)
    cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
    workers = []
    for index in range(2):
        env = dict(subprocess_env, CUDA_VISIBLE_DEVICES="",
                   TF_CONFIG=json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}}))
        command = [sys.executable, "-m", "digitcore", "train", "CNN-1", "--epochs", "1", "--subset", "512",
                   "--batch-size", "64", "--out", str(tmp_path / f"worker{index}")]
        log = open(tmp_path / f"worker{index}.log", "w", encoding="utf-8")
        workers.append((subprocess.Popen(command, env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT),
                        log))

    try:
        return_codes = [process.wait(timeout=TIMEOUT_SECONDS) for process, _ in workers]
    except subprocess.TimeoutExpired:
        return_codes = None
    finally:
        for process, log in workers:
            if process.poll() is None:
                process.kill()
                process.wait()
            log.close()

    logs = [(tmp_path / f"worker{index}.log").read_text(encoding="utf-8")[-2000:] for index in range(2)]
    assert return_codes is not None, f"workers did not finish within {TIMEOUT_SECONDS} s: {logs}"
    assert return_codes == [0, 0], logs

    record = json.loads((tmp_path / "worker0" / "run.json").read_text(encoding="utf-8"))
    assert record["device"] == "MultiWorkerMirroredStrategy over 2 workers"
    assert record["num_replicas"] == 2
    assert record["variant"] == "CNN-1"
    # Only the chief (worker 0) saves the run.
    assert not (tmp_path / "worker1").exists()
    assert "only the chief (worker 0) saves the run" in logs[1]

    # The chief's test accuracy, computed by both workers together, matches a plain
    # single-process evaluation of the saved model.
    saved = json.loads((tmp_path / "worker0" / "metrics.json").read_text(encoding="utf-8"))
    completed = subprocess.run([sys.executable, "-m", "digitcore", "evaluate", str(tmp_path / "worker0" / "model.keras")],
                               env=subprocess_env, capture_output=True, text=True, timeout=TIMEOUT_SECONDS)
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert f"test_accuracy                {saved['test_accuracy']:.4f}" in completed.stdout

