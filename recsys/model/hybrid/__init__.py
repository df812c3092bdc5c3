"""The hybrid two-tower model: content tokens, numpy serving maths and fold-in, the epoch
recipe, the Keras towers (TensorFlow) and its training into a bundle."""
