"""Reading and writing run artifacts atomically, and loading saved models safely.

A run folder contains ``model.keras``, ``history.json``, ``metrics.json``,
``run.json`` and, for generators, ``samples.npz`` (the fixed-seed grid after
every epoch). Every file is written to a temporary name in the same folder and
then renamed, so a crash or a cancelled run never leaves a half-written file.
"""

import json
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

MODEL_FILE = "model.keras"
HISTORY_FILE = "history.json"
METRICS_FILE = "metrics.json"
RUN_FILE = "run.json"
SAMPLES_FILE = "samples.npz"
EXTRAS_FILE = "extras.npz"


class ArtifactError(RuntimeError):
    """An artifact file is missing or unreadable; the message names it and how to rebuild it."""


def rebuild_hint(path, variant_name=None):
    """Return the command that recreates the run folder containing the artifact ``path``.

    ``variant_name`` defaults to the folder's name. When that name is not a variant,
    the hint gives the general command, because a specific one would fail.
    """
    from digitcore import registry

    folder = Path(path).parent
    variant_name = variant_name or folder.name
    if variant_name not in registry.VARIANTS:
        return ("Check the path, or train a new model with: python -m digitcore train VARIANT "
                "--out FOLDER (python -m digitcore list shows the variants).")
    return f"Rebuild it with: python -m digitcore train {variant_name} --out {folder}"


def _atomic_write(path, write):
    """Call ``write(temporary_path)``, then rename the result over ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    # mkstemp creates the file as 0600; give it the mode a plain open() would.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(temporary, 0o666 & ~umask)
    try:
        write(temporary)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_json(path, data):
    def write(temporary):
        with open(temporary, "w", encoding="utf-8") as stream:
            json.dump(data, stream, indent=1, allow_nan=False, default=_to_builtin)
            stream.write("\n")

    _atomic_write(path, write)


def _to_builtin(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"cannot store {type(value).__name__} in JSON")


def write_npz(path, **arrays):
    def write(temporary):
        with open(temporary, "wb") as stream:
            np.savez_compressed(stream, **arrays)

    _atomic_write(path, write)


def without_optimizer(model):
    """Return an uncompiled copy of ``model`` with the same weights.

    A compiled model's ``.keras`` file also stores the Adam moments, which triples
    its size; the gallery ships models for inference, so it saves the copy.
    """
    import keras

    # Rebuilt from the config rather than keras.models.clone_model, which keeps the
    # optimizer of a compiled functional model (Keras 3.15).
    copy = type(model).from_config(model.get_config())
    if model.built and not copy.built:
        # A subclassed model (VAE, GAN) comes back from its config unbuilt, and a file saved
        # from an unbuilt model loads unbuilt too, without a parameter count.
        copy.build(model.get_build_config()["input_shape"])
    copy.set_weights(model.get_weights())
    return copy


def save_model(model, path, include_optimizer=False):
    """Save a Keras model atomically (Keras needs the ``.keras`` suffix on the temporary file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.stem}.{os.getpid()}.tmp.keras")
    deflated = path.with_name(f".{path.stem}.{os.getpid()}.deflated.keras")
    if not include_optimizer:
        model = without_optimizer(model)
    try:
        model.save(temporary)
        deflate_archive(temporary, deflated)
        os.replace(deflated, path)
    finally:
        temporary.unlink(missing_ok=True)
        deflated.unlink(missing_ok=True)


def deflate_archive(source, destination):
    """Copy the zip archive ``source`` to ``destination`` with every member deflated.

    Keras 3.15 stores the members of a ``.keras`` archive uncompressed. Deflating them
    makes the gallery's model files about 8% smaller, and Keras loads either form.
    """
    with zipfile.ZipFile(source) as original, \
            zipfile.ZipFile(destination, "w", compression=zipfile.ZIP_DEFLATED) as compressed:
        for member in original.infolist():
            compressed.writestr(member, original.read(member), compress_type=zipfile.ZIP_DEFLATED)


def read_json(path, variant_name=None):
    path = Path(path)
    try:
        with open(path, encoding="utf-8") as stream:
            return json.load(stream)
    except FileNotFoundError:
        raise ArtifactError(f"{path} not found. {rebuild_hint(path, variant_name)}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ArtifactError(
            f"{path} is corrupt ({error}). {rebuild_hint(path, variant_name)}"
        ) from None


def read_npz(path, variant_name=None):
    """Load every array of an ``.npz`` file into a dict (no pickles allowed)."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {key: archive[key] for key in archive.files}
    except FileNotFoundError:
        raise ArtifactError(f"{path} not found. {rebuild_hint(path, variant_name)}") from None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise ArtifactError(
            f"{path} is corrupt ({error}). {rebuild_hint(path, variant_name)}"
        ) from None


def load_model(path, variant_name=None):
    """Load a ``.keras`` model with ``safe_mode=True``, so no code in the file is ever run.

    Importing ``digitcore`` registers the VAE and GAN classes, so their files load
    in a fresh process. Raises ``ArtifactError`` naming the file when it is missing
    or cannot be read.
    """
    import keras

    import digitcore.models  # noqa: F401  (registers the VAE and GAN classes)

    path = Path(path)
    hint = rebuild_hint(path, variant_name)
    if not path.is_file():
        raise ArtifactError(f"model file {path} not found. {hint}")
    if not zipfile.is_zipfile(path):
        raise ArtifactError(f"model file {path} is not a .keras archive (a zip file): it is damaged "
                            f"or of another format. {hint}")
    try:
        return keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as error:  # Keras raises many types for a damaged archive.
        if "safe_mode" in str(error):
            raise ArtifactError(f"model file {path} was rejected because it contains Python code (such as a "
                                f"Lambda layer), and digitcore loads models only in Keras safe mode, "
                                f"which never runs code from a file. {hint}") from error
        raise ArtifactError(f"model file {path} could not be loaded ({type(error).__name__}: "
                            f"{str(error)[:200]}). {hint}") from error
