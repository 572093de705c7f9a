"""Tinsel's own Rasa NLU components.

Rasa imports this package whenever it reads a Tinsel model (the model's graph names these
components), before it loads any TensorFlow model, which is why the faster load of those models
(rasa_extensions/fast_model_load.py) is installed here: every process that loads the model gets
it, `rasa run`, `rasa test`, the tests and the benchmarks alike.
"""
from rasa_extensions import fast_model_load

fast_model_load.install()
