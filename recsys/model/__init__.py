"""The models: the lab's network (``lab``), the hybrid (``hybrid``), their registry
(``kinds``), training on a cluster (``distributed``) and the bundle on disk (``bundle``).

Importing this package, or any module that serving reads, does not import TensorFlow:
only ``recsys.model._tf`` does, through the Keras graphs and the distributed steps, and
only training imports those.
"""
