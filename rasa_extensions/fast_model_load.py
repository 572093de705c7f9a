"""Loading Rasa's TensorFlow models (DIET, the FAQ response selector, TED) without a training step.

Rasa 3.6's RasaModel.load builds a model by fitting it on one example, which traces the whole
training step with its gradients and creates Adam's two slot variables for every weight, then
loads the trained weights over it and runs one prediction to trace that too. Profiled (cProfile
on Agent.load of models/tinsel.tar.gz), the one-example fit was 61 of the 83 seconds a Rasa server
took to load the model, and every server start in the tests and in `make run-scaled` paid it.

Here the checkpoint is opened first and TensorFlow restores each weight as the prediction path
creates it (deferred restoration, matched by the weight's place in the model, not by the order
it is built in), so a load traces only the prediction Rasa's own load traces last. Adam's state
in the checkpoint is not needed to predict and is left unread (`expect_partial`). Predictions are
the same as after Rasa's load (tests/rasa_extensions/test_fast_model_load.py). Fine-tuning and
a load without a prediction example keep Rasa's own way.
"""
from __future__ import annotations

from typing import Any, Optional, Text

from rasa.utils.tensorflow.constants import RUN_EAGERLY
from rasa.utils.tensorflow.model_data import RasaModelData
from rasa.utils.tensorflow.models import RasaModel

RASA_LOAD = RasaModel.load.__func__


def load(
    cls: type,
    model_file_name: Text,
    model_data_example: RasaModelData,
    predict_data_example: Optional[RasaModelData] = None,
    finetune_mode: bool = False,
    *args: Any,
    **kwargs: Any,
) -> RasaModel:
    """RasaModel.load's signature and result, with the weights restored as they are created."""
    if finetune_mode or predict_data_example is None:
        return RASA_LOAD(cls, model_file_name, model_data_example, predict_data_example, finetune_mode,
                         *args, **kwargs)
    model = cls(*args, **kwargs)
    model.compile(run_eagerly=kwargs.get("config", {}).get(RUN_EAGERLY))
    model.load_weights(model_file_name).expect_partial()
    model.run_inference(predict_data_example)
    return model


def install() -> None:
    """Every RasaModel subclass (DIET, TED) loads this way from now on in this process."""
    RasaModel.load = classmethod(load)
