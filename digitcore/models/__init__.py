"""Model builders; importing this package registers the VAE and GAN classes with Keras."""

from digitcore.models.gan import GAN
from digitcore.models.vae import VAE

__all__ = ["GAN", "VAE"]
