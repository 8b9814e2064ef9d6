"""The pretrained gallery in ``trained/``: paths and the manifest the app reads."""

import os
from pathlib import Path

GALLERY_DIR = Path(os.environ.get("DIGITCORE_GALLERY", Path(__file__).resolve().parents[1] / "trained"))
MANIFEST_FILE = "manifest.json"
