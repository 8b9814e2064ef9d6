"""Deep convolutional GANs with a 100-dimensional latent vector: DCGAN-1..5.

``GAN`` is a ``keras.Model`` subclass because one training step updates two
networks in turn: the discriminator on a batch of real and generated images, then
the generator through the frozen discriminator. Both use binary cross-entropy on
the discriminator's sigmoid output.
"""

import keras
from keras import layers, ops

from digitcore.models.replicas import replica_share

IMAGE_SHAPE = (28, 28, 1)
LATENT_DIM = 100


@keras.saving.register_keras_serializable(package="digitcore")
class GAN(keras.Model):
    """A generator from N(0, I) latents to images, and a discriminator scoring realness.

    Latent noise comes from a ``SeedGenerator`` seeded by ``seed``, so every step
    draws new latents and a run is reproducible from its seed. Calling the model
    on a batch of latent vectors returns generated images.
    """

    def __init__(self, generator, discriminator, seed=0, **kwargs):
        super().__init__(**kwargs)
        self.generator = generator
        self.discriminator = discriminator
        self.seed = seed
        self.latent_dim = generator.input_shape[-1]
        self.noise_generator = keras.random.SeedGenerator(seed)
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.d_real_tracker = keras.metrics.Mean(name="d_real")
        self.d_fake_tracker = keras.metrics.Mean(name="d_fake")

    @property
    def metrics(self):
        return [self.d_loss_tracker, self.g_loss_tracker, self.d_real_tracker, self.d_fake_tracker]

    def compile(self, d_optimizer, g_optimizer, **kwargs):
        super().compile(**kwargs)
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        # Create the optimizers' variables here, in the scope that compile() runs in, because
        # under a tf.distribute strategy creating them inside the first traced step fails.
        d_optimizer.build(self.discriminator.trainable_variables)
        g_optimizer.build(self.generator.trainable_variables)

    def call(self, latents, training=False):
        return self.generator(latents, training=training)

    def sample_latents(self, batch_size):
        return keras.random.normal((batch_size, self.latent_dim), seed=self.noise_generator)

    def train_step(self, data):
        import tensorflow as tf

        real_images = data[0] if isinstance(data, tuple) else data
        batch_size = ops.shape(real_images)[0]
        bce = keras.losses.binary_crossentropy

        # Update the discriminator: real images labelled 1, generated ones 0.
        fake_images = self.generator(self.sample_latents(batch_size), training=True)
        with tf.GradientTape() as tape:
            real_scores = self.discriminator(real_images, training=True)
            fake_scores = self.discriminator(fake_images, training=True)
            d_loss = ops.mean(bce(ops.ones_like(real_scores), real_scores)) + ops.mean(
                bce(ops.zeros_like(fake_scores), fake_scores)
            )
            scaled_d_loss = replica_share(d_loss)
        gradients = tape.gradient(scaled_d_loss, self.discriminator.trainable_weights)
        self.d_optimizer.apply_gradients(zip(gradients, self.discriminator.trainable_weights))

        # Update the generator: make the discriminator call new fakes real.
        latents = self.sample_latents(batch_size)
        with tf.GradientTape() as tape:
            scores = self.discriminator(self.generator(latents, training=True), training=True)
            g_loss = ops.mean(bce(ops.ones_like(scores), scores))
            scaled_g_loss = replica_share(g_loss)
        gradients = tape.gradient(scaled_g_loss, self.generator.trainable_weights)
        self.g_optimizer.apply_gradients(zip(gradients, self.generator.trainable_weights))

        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        self.d_real_tracker.update_state(ops.mean(real_scores))
        self.d_fake_tracker.update_state(ops.mean(fake_scores))
        return {metric.name: metric.result() for metric in self.metrics}

    def generate(self, num_images, seed):
        """Return ``num_images`` images (numpy, in the generator's output range) from ``seed``."""
        latents = keras.random.normal((num_images, self.latent_dim), seed=seed)
        return keras.ops.convert_to_numpy(self.generator(latents, training=False))

    def get_config(self):
        config = super().get_config()
        config.update(
            generator=keras.saving.serialize_keras_object(self.generator),
            discriminator=keras.saving.serialize_keras_object(self.discriminator),
            seed=self.seed,
        )
        return config

    @classmethod
    def from_config(cls, config):
        config["generator"] = keras.saving.deserialize_keras_object(config["generator"])
        config["discriminator"] = keras.saving.deserialize_keras_object(config["discriminator"])
        return cls(**config)


def build_generator(filters, kernel_size, output_activation, latent_dim=LATENT_DIM):
    """Dense to 7×7×filters[0], transposed convs ending at 28×28×1.

    ``filters`` lists the channels of the hidden transposed convs. The last two
    hidden ones have stride 2 (7 → 14 → 28); any before them keep 7×7.
    """
    latents = keras.Input((latent_dim,), name="latent")
    x = layers.Dense(7 * 7 * filters[0], use_bias=False, name="project")(latents)
    x = layers.LeakyReLU(0.2, name="project_lrelu")(x)
    x = layers.Reshape((7, 7, filters[0]), name="reshape")(x)
    num_hidden = len(filters)
    for index, channels in enumerate(filters, start=1):
        strides = 2 if index > num_hidden - 2 else 1
        x = layers.Conv2DTranspose(channels, kernel_size, strides=strides, padding="same",
                                   use_bias=False, name=f"g_convT{index}")(x)
        x = layers.BatchNormalization(name=f"g_bn{index}")(x)
        x = layers.LeakyReLU(0.2, name=f"g_lrelu{index}")(x)
    images = layers.Conv2DTranspose(1, kernel_size, padding="same", activation=output_activation,
                                    name="g_output")(x)
    return keras.Model(latents, images, name="generator")


def build_discriminator(filters, kernel_size):
    """Stride-2 convs (LeakyReLU 0.2, batch norm after all but the first), then Dense 1 sigmoid."""
    images = keras.Input(IMAGE_SHAPE, name="image")
    x = images
    for index, channels in enumerate(filters, start=1):
        x = layers.Conv2D(channels, kernel_size, strides=2, padding="same", name=f"d_conv{index}")(x)
        if index > 1:
            x = layers.BatchNormalization(name=f"d_bn{index}")(x)
        x = layers.LeakyReLU(0.2, name=f"d_lrelu{index}")(x)
    x = layers.Flatten(name="flatten")(x)
    score = layers.Dense(1, activation="sigmoid", name="d_output")(x)
    return keras.Model(images, score, name="discriminator")


def build_gan(name, generator_filters, discriminator_filters, kernel_size, output_activation, seed=0):
    generator = build_generator(generator_filters, kernel_size, output_activation)
    discriminator = build_discriminator(discriminator_filters, kernel_size)
    gan = GAN(generator, discriminator, seed=seed, name=name)
    gan.build((None, LATENT_DIM))
    return gan


def build_dcgan_1(seed=0):
    return build_gan("DCGAN-1", [128, 64], [64, 128], 3, "tanh", seed)


def build_dcgan_2(seed=0):
    return build_gan("DCGAN-2", [128, 64], [64, 128], 3, "sigmoid", seed)


def build_dcgan_3(seed=0):
    return build_gan("DCGAN-3", [128, 64], [64, 128], 5, "sigmoid", seed)


def build_dcgan_4(seed=0):
    return build_gan("DCGAN-4", [64, 64, 32], [32, 64, 128, 256], 5, "sigmoid", seed)


def build_dcgan_5(seed=0):
    return build_gan("DCGAN-5", [64, 64, 32], [32, 64, 128, 256], 5, "sigmoid", seed)
