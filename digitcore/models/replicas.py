"""Loss scaling for training steps that run on several replicas at once.

Under a ``tf.distribute`` strategy every replica computes its own mean loss on its
share of the batch, and Keras's optimizer sums the replicas' gradients. Dividing each
replica's loss by the number of replicas turns that sum into the gradient of the mean
loss over the whole batch, as Keras does for compiled losses. With one replica the loss
is unchanged.
"""


def replica_share(loss):
    """Return ``loss`` divided by the number of replicas in sync (1 outside a strategy)."""
    import tensorflow as tf

    num_replicas = tf.distribute.get_strategy().num_replicas_in_sync
    if num_replicas == 1:
        return loss
    return loss / num_replicas
