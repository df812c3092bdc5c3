"""The lab's two-tower network: its Keras graph (TensorFlow), its numpy towers for
serving, and its training into a bundle on the lab's 80/20 split."""
