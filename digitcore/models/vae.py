"""Convolutional variational autoencoders with a 2-D latent space: CVAE-1..5.

``VAE`` is a ``keras.Model`` subclass because its ``train_step`` differs from a
plain fit: it minimises the reconstruction loss (binary cross-entropy summed over
the 784 pixels) plus the KL divergence of q(z|x) from N(0, I), both averaged over
the batch. Images are in [0, 1]; the decoder ends in a sigmoid.
"""

import keras
from keras import layers, ops

from digitcore.models.replicas import replica_share

INPUT_SHAPE = (28, 28, 1)
LATENT_DIM = 2


@keras.saving.register_keras_serializable(package="digitcore")
class VAE(keras.Model):
    """An encoder giving (z_mean, z_log_var) and a decoder from z back to an image.

    The reparameterisation noise comes from a ``SeedGenerator`` seeded by ``seed``:
    it is reproducible from the seed and new at every training step. Calling the
    model outside training decodes ``z_mean`` and is deterministic.
    """

    def __init__(self, encoder, decoder, seed=0, beta=1.0, **kwargs):
        super().__init__(**kwargs)
        self.encoder = encoder
        self.decoder = decoder
        self.seed = seed
        self.beta = beta
        self.latent_dim = decoder.input_shape[-1]
        self.noise_generator = keras.random.SeedGenerator(seed)
        self.total_loss_tracker = keras.metrics.Mean(name="loss")
        self.reconstruction_loss_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.kl_loss_tracker = keras.metrics.Mean(name="kl_loss")

    @property
    def metrics(self):
        return [self.total_loss_tracker, self.reconstruction_loss_tracker, self.kl_loss_tracker]

    def call(self, images, training=False):
        z_mean, z_log_var = self.encoder(images, training=training)
        z = self.sample_latent(z_mean, z_log_var) if training else z_mean
        return self.decoder(z, training=training)

    def sample_latent(self, z_mean, z_log_var):
        epsilon = keras.random.normal(ops.shape(z_mean), seed=self.noise_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon

    def compute_losses(self, images, training):
        z_mean, z_log_var = self.encoder(images, training=training)
        z = self.sample_latent(z_mean, z_log_var)
        reconstruction = self.decoder(z, training=training)

        pixel_losses = keras.losses.binary_crossentropy(images, reconstruction, axis=-1)
        reconstruction_loss = ops.mean(ops.sum(pixel_losses, axis=(1, 2)))
        kl_per_image = -0.5 * ops.sum(1 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var), axis=1)
        kl_loss = ops.mean(kl_per_image)
        return reconstruction_loss + self.beta * kl_loss, reconstruction_loss, kl_loss

    def _update_trackers(self, total_loss, reconstruction_loss, kl_loss):
        self.total_loss_tracker.update_state(total_loss)
        self.reconstruction_loss_tracker.update_state(reconstruction_loss)
        self.kl_loss_tracker.update_state(kl_loss)
        return {metric.name: metric.result() for metric in self.metrics}

    def train_step(self, data):
        import tensorflow as tf

        images = data[0] if isinstance(data, tuple) else data
        with tf.GradientTape() as tape:
            losses = self.compute_losses(images, training=True)
            scaled_loss = replica_share(losses[0])
        gradients = tape.gradient(scaled_loss, self.trainable_weights)
        self.optimizer.apply_gradients(zip(gradients, self.trainable_weights))
        return self._update_trackers(*losses)

    def test_step(self, data):
        images = data[0] if isinstance(data, tuple) else data
        return self._update_trackers(*self.compute_losses(images, training=False))

    def encode(self, images):
        """Return the latent means (n, latent_dim) of ``images`` as a tensor."""
        z_mean, _ = self.encoder(images, training=False)
        return z_mean

    def get_config(self):
        config = super().get_config()
        config.update(
            encoder=keras.saving.serialize_keras_object(self.encoder),
            decoder=keras.saving.serialize_keras_object(self.decoder),
            seed=self.seed,
            beta=self.beta,
        )
        return config

    @classmethod
    def from_config(cls, config):
        config["encoder"] = keras.saving.deserialize_keras_object(config["encoder"])
        config["decoder"] = keras.saving.deserialize_keras_object(config["decoder"])
        return cls(**config)


def build_encoder(conv_plan, hidden_units, latent_dim=LATENT_DIM):
    """Conv layers given as (filters, strides) pairs, then dense layers, then (z_mean, z_log_var)."""
    images = keras.Input(INPUT_SHAPE, name="image")
    x = images
    for index, (filters, strides) in enumerate(conv_plan, start=1):
        x = layers.Conv2D(filters, 3, strides=strides, padding="same", activation="relu",
                          name=f"enc_conv{index}")(x)
    x = layers.Flatten(name="flatten")(x)
    for index, units in enumerate(hidden_units, start=1):
        x = layers.Dense(units, activation="relu", name=f"enc_fc{index}")(x)
    z_mean = layers.Dense(latent_dim, name="z_mean")(x)
    z_log_var = layers.Dense(latent_dim, name="z_log_var")(x)
    return keras.Model(images, [z_mean, z_log_var], name="encoder")


def build_decoder(conv_plan, hidden_units, latent_dim=LATENT_DIM):
    """Mirror of the encoder: dense layers, a 7×7 feature map, transposed convs to 28×28."""
    z = keras.Input((latent_dim,), name="z")
    x = z
    for index, units in enumerate(reversed(hidden_units), start=1):
        x = layers.Dense(units, activation="relu", name=f"dec_fc{index}")(x)
    first_filters = conv_plan[-1][0]
    x = layers.Dense(7 * 7 * first_filters, activation="relu", name="dec_project")(x)
    x = layers.Reshape((7, 7, first_filters), name="dec_reshape")(x)

    # Walk the encoder's plan backwards: each transposed conv undoes one encoder conv.
    mirrored = list(reversed(conv_plan))
    for index, (_, strides) in enumerate(mirrored[:-1], start=1):
        filters = mirrored[index][0]
        x = layers.Conv2DTranspose(filters, 3, strides=strides, padding="same", activation="relu",
                                   name=f"dec_convT{index}")(x)
    x = layers.Conv2DTranspose(1, 3, strides=mirrored[-1][1], padding="same", activation="sigmoid",
                               name="dec_output")(x)
    return keras.Model(z, x, name="decoder")


# Encoder conv plans: (filters, strides). Two stride-2 layers take 28×28 to 7×7.
_THREE_CONV = [(32, 2), (64, 2), (64, 1)]
_FIVE_CONV = [(32, 1), (32, 2), (64, 1), (64, 2), (64, 1)]


def build_vae(name, conv_plan, hidden_units, seed=0):
    encoder = build_encoder(conv_plan, hidden_units)
    decoder = build_decoder(conv_plan, hidden_units)
    vae = VAE(encoder, decoder, seed=seed, name=name)
    vae.build(encoder.input_shape)
    return vae


def build_cvae_1(seed=0):
    return build_vae("CVAE-1", _THREE_CONV, [100], seed)


def build_cvae_2(seed=0):
    return build_vae("CVAE-2", _THREE_CONV, [200], seed)


def build_cvae_3(seed=0):
    return build_vae("CVAE-3", _FIVE_CONV, [100], seed)


def build_cvae_4(seed=0):
    return build_vae("CVAE-4", _THREE_CONV, [256, 128, 64], seed)


def build_cvae_5(seed=0):
    return build_vae("CVAE-5", _THREE_CONV, [256, 128, 64, 32], seed)
