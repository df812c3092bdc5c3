"""Training on a cluster: who is in it (``cluster``), each worker's rows on disk
(``shards``), and each model kind's synchronised step on TensorFlow's
``MultiWorkerMirroredStrategy`` (``lab_step``, ``hybrid_step``)."""
