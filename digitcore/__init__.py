"""digitcore: neural networks that recognise and create handwritten digits, on real MNIST.

Importing the package registers the custom VAE and GAN model classes with Keras,
so a saved ``.keras`` file of any variant loads with
``keras.saving.load_model(path, safe_mode=True)`` after ``import digitcore``.
"""

import os

# Keep TensorFlow's C++ start-up notices (CUDA probing and the like) off the console
# unless the caller asked for them.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"

from digitcore import models  # noqa: E402,F401  (registers the VAE and GAN classes)
