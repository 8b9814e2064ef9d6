"""Handlers of the command-line subcommands (``cli.py`` parses the arguments)."""

import logging
import sys
import time
from pathlib import Path

from digitcore import registry
from digitcore.progress import ProgressListener

logger = logging.getLogger(__name__)


class ConsoleProgress(ProgressListener):
    """A one-line progress bar on stderr, replaced by one log line per epoch."""

    def __init__(self, stream=sys.stderr, width=30):
        self.stream = stream
        self.width = width
        self.interactive = stream.isatty()
        self.last_drawn = 0.0

    def on_batch_end(self, epoch, batch, num_batches, logs):
        now = time.monotonic()
        if batch < num_batches and now - self.last_drawn < (0.1 if self.interactive else 5.0):
            return
        self.last_drawn = now
        done = int(self.width * batch / max(1, num_batches))
        loss = logs.get("loss", logs.get("g_loss", float("nan")))
        line = f"epoch {epoch} [{'#' * done}{'.' * (self.width - done)}] {batch}/{num_batches} loss {loss:.4f}"
        self.stream.write(("\r" + line) if self.interactive else line + "\n")
        self.stream.flush()

    def on_epoch_end(self, epoch, num_epochs, logs, epoch_seconds, samples):
        if self.interactive:
            self.stream.write("\r" + " " * (self.width + 60) + "\r")
        values = ", ".join(f"{key} {value:.4f}" for key, value in logs.items())
        self.stream.write(f"epoch {epoch}/{num_epochs}: {values}, {epoch_seconds:.1f} s\n")
        self.stream.flush()


def run_list(args):
    print(f"{'variant':<9} {'family':<11} {'change from baseline':<52} summary")
    for variant in registry.VARIANTS.values():
        print(f"{variant.name:<9} {variant.family:<11} {variant.change_from_baseline:<52} {variant.summary}")
    return 0


def run_info(args):
    import tensorflow as tf

    from digitcore.data import mnist
    from digitcore.device import cpu_description
    from digitcore.run_record import library_versions

    for name, version in library_versions().items():
        print(f"{name:<13} {version}")
    gpus = tf.config.list_physical_devices("GPU")
    print(f"{'devices':<13} {cpu_description()}; {len(gpus)} GPU(s)")
    actual = mnist.file_sha256(mnist.MNIST_PATH) if mnist.MNIST_PATH.is_file() else "file missing"
    state = "ok" if actual == mnist.MNIST_SHA256 else f"MISMATCH (expected {mnist.MNIST_SHA256})"
    print(f"{'data file':<13} {mnist.MNIST_PATH}")
    print(f"{'data sha256':<13} {actual} {state}")
    return 0


def run_train(args):
    from digitcore.engine import train

    out_dir = args.out or Path("runs") / args.variant
    # The console listener prints the per-epoch lines, so the engine's log would repeat them.
    logging.getLogger("digitcore.engine").setLevel(logging.WARNING)
    result = train(args.variant, args.recipe, num_epochs=args.epochs, batch_size=args.batch_size,
                   train_subset=args.subset, learning_rate=args.learning_rate, seed=args.seed,
                   out_dir=out_dir, listener=ConsoleProgress())
    _print_metrics(result.metrics)
    print(f"training time {result.record['train_seconds']:.1f} s on {result.record['device']}")
    if result.out_dir is None:
        print("not saved here: in a multi-worker run only the chief (worker 0) saves the run")
    else:
        print(f"saved the run to {result.out_dir}")
    return 0


def _print_metrics(metrics):
    for key, value in metrics.items():
        if isinstance(value, float):
            print(f"{key:<28} {value:.4f}")
        elif not isinstance(value, list) or key == "class_histogram":
            print(f"{key:<28} {value}")


def run_evaluate(args):
    from digitcore import artifacts
    from digitcore.data import mnist
    from digitcore.evaluation import evaluate_model
    from digitcore.gallery import GALLERY_DIR
    from digitcore.recipes import Recipe

    target = args.target
    if target in registry.VARIANTS:
        path = GALLERY_DIR / target / artifacts.MODEL_FILE
        variant = registry.get_variant(target)
    else:
        path = Path(target)
        if path.suffix != ".keras":
            raise ValueError(f"{target!r} is neither a variant ({', '.join(registry.VARIANTS)}) "
                             f"nor a .keras file")
        variant = _variant_of_file(path)
    model = artifacts.load_model(path, variant.name)
    run_file = path.parent / artifacts.RUN_FILE
    recipe = (Recipe.from_dict(artifacts.read_json(run_file)["recipe"]) if run_file.is_file()
              else variant.recipe("fast"))
    _, test = mnist.load_mnist()
    metrics, _ = evaluate_model(model, variant, recipe, test)
    print(f"{variant.name} from {path}")
    _print_metrics(metrics)
    return 0


def _variant_of_file(path):
    from digitcore import artifacts

    model = artifacts.load_model(path)
    try:
        return registry.get_variant(model.name)
    except ValueError:
        raise ValueError(f"{path} contains a model named {model.name!r}, which is not a digitcore variant") from None


def run_reproduce(args):
    from digitcore.reproduce import reproduce

    logging.getLogger("digitcore.engine").setLevel(logging.WARNING)
    reproduce(family=args.family, recipe=args.recipe, num_epochs=args.epochs, train_subset=args.subset,
              gallery_dir=args.out, listener=ConsoleProgress())
    return 0
