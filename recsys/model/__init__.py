"""Features, scaling, the Keras network (the only TensorFlow import), training, the bundle.

Importing this package does not import TensorFlow: only ``recsys.model.lab.network`` does,
and only training imports that.
"""
