"""all-MiniLM-L6-v2's forward pass as an ONNX graph, built from the same weights the NumPy encoder
loads, for onnxruntime (issue #16: the encoder was a sixth of a turn's time in NumPy).

The graph is the NumPy pass in sentence_encoder.py node for node: embeddings, six BERT layers
(attention with the padding mask as an additive bias, exact erf GELU), mean pooling over the real
tokens, L2 normalisation. It is built in memory when the encoder loads; no model file is
downloaded or written.

The weights stay out of the serialized graph: each is marked as external data and handed to
onnxruntime as the NumPy array itself (`external`), which it uses without a copy. Serializing them
into the graph and having onnxruntime parse them back cost a Rasa server 315 MB of peak memory
while the model loaded (1,404 -> 1,089 MB, Agent.load of the whole model).
"""
from __future__ import annotations

import math
from typing import Dict, List, Tuple

import numpy as np
from onnx import TensorProto, helper, numpy_helper

OPSET = 17  # LayerNormalization
EXTERNAL_FROM_BYTES = 1024  # smaller constants (shapes, scalars) stay in the graph, where shape inference reads them


class GraphBuilder:
    """Collects nodes and constants; names are generated so the layer code reads like the math."""

    def __init__(self) -> None:
        self.nodes: List = []
        self.initializers: List = []
        self.external: Dict[str, np.ndarray] = {}
        self.count = 0

    def constant(self, value: np.ndarray, name: str = "") -> str:
        name = name or self.fresh("c")
        value = np.asarray(value)
        if value.nbytes < EXTERNAL_FROM_BYTES:
            self.initializers.append(numpy_helper.from_array(value, name))
        else:
            self.initializers.append(_external_tensor(name, value))
            self.external[name] = np.ascontiguousarray(value)
        return name

    def fresh(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def op(self, op_type: str, *inputs: str, **attributes) -> str:
        output = self.fresh(op_type.lower())
        self.nodes.append(helper.make_node(op_type, list(inputs), [output], **attributes))
        return output


def _external_tensor(name: str, value: np.ndarray) -> TensorProto:
    """A weight's name, type and shape, its data marked as supplied from outside the graph."""
    tensor = TensorProto(name=name, data_type=helper.np_dtype_to_tensor_dtype(value.dtype), dims=value.shape,
                         data_location=TensorProto.EXTERNAL)
    for key, text in (("location", "weights"), ("offset", "0"), ("length", str(value.nbytes))):
        entry = tensor.external_data.add()
        entry.key, entry.value = key, text
    return tensor


def _dense(g: GraphBuilder, x: str, w: Dict[str, np.ndarray], name: str) -> str:
    return g.op("Add", g.op("MatMul", x, g.constant(w[name + ".weight"])), g.constant(w[name + ".bias"]))


def _layer_norm(g: GraphBuilder, x: str, w: Dict[str, np.ndarray], name: str, eps: float) -> str:
    return g.op("LayerNormalization", x, g.constant(w[name + ".weight"]), g.constant(w[name + ".bias"]),
                axis=-1, epsilon=eps)


def _attention(g: GraphBuilder, x: str, bias: str, w: Dict[str, np.ndarray], prefix: str, heads: int,
               width: int) -> str:
    head_width = width // heads
    split = g.constant(np.array([0, 0, heads, head_width], dtype=np.int64))

    def heads_of(name: str) -> str:
        return g.op("Transpose", g.op("Reshape", _dense(g, x, w, prefix + name), split), perm=[0, 2, 1, 3])

    query, key, value = heads_of("attention.self.query"), heads_of("attention.self.key"), heads_of("attention.self.value")
    scores = g.op("Mul", g.op("MatMul", query, g.op("Transpose", key, perm=[0, 1, 3, 2])),
                  g.constant(np.float32(1.0 / math.sqrt(head_width))))
    probs = g.op("Softmax", g.op("Add", scores, bias), axis=-1)
    context = g.op("Transpose", g.op("MatMul", probs, value), perm=[0, 2, 1, 3])
    return g.op("Reshape", context, g.constant(np.array([0, 0, width], dtype=np.int64)))


def _gelu(g: GraphBuilder, x: str) -> str:
    erf = g.op("Erf", g.op("Div", x, g.constant(np.float32(math.sqrt(2.0)))))
    return g.op("Mul", g.op("Mul", x, g.constant(np.float32(0.5))), g.op("Add", erf, g.constant(np.float32(1.0))))


def _layer(g: GraphBuilder, x: str, bias: str, w: Dict[str, np.ndarray], prefix: str, heads: int, width: int,
           eps: float) -> str:
    context = _attention(g, x, bias, w, prefix, heads, width)
    attended = _layer_norm(g, g.op("Add", _dense(g, context, w, prefix + "attention.output.dense"), x), w,
                           prefix + "attention.output.LayerNorm", eps)
    intermediate = _gelu(g, _dense(g, attended, w, prefix + "intermediate.dense"))
    return _layer_norm(g, g.op("Add", _dense(g, intermediate, w, prefix + "output.dense"), attended), w,
                       prefix + "output.LayerNorm", eps)


def _embeddings(g: GraphBuilder, w: Dict[str, np.ndarray], eps: float) -> str:
    words = g.op("Gather", g.constant(w["embeddings.word_embeddings.weight"]), "input_ids")
    length = g.op("Gather", g.op("Shape", "input_ids"), g.constant(np.int64(1)))
    positions = g.op("Range", g.constant(np.int64(0)), length, g.constant(np.int64(1)))
    placed = g.op("Add", words, g.op("Gather", g.constant(w["embeddings.position_embeddings.weight"]), positions))
    typed = g.op("Add", placed, g.constant(w["embeddings.token_type_embeddings.weight"][0]))
    return _layer_norm(g, typed, w, "embeddings.LayerNorm", eps)


def _mean_pooled_unit_vectors(g: GraphBuilder, hidden: str) -> str:
    mask = g.op("Unsqueeze", "attention_mask", g.constant(np.array([2], dtype=np.int64)))
    one = g.constant(np.array([1], dtype=np.int64))
    summed = g.op("ReduceSum", g.op("Mul", hidden, mask), one, keepdims=0)
    pooled = g.op("Div", summed, g.op("ReduceSum", "attention_mask", one, keepdims=1))
    norm = g.op("Max", g.op("ReduceL2", pooled, axes=[1], keepdims=1), g.constant(np.float32(1e-12)))
    g.nodes.append(helper.make_node("Div", [pooled, norm], ["embeddings"]))
    return "embeddings"


def encoder_graph(weights: Dict[str, np.ndarray], heads: int, layers: int,
                  eps: float) -> Tuple[bytes, Dict[str, np.ndarray]]:
    """The serialized ONNX model (input_ids int64 and attention_mask float32, both [batch, tokens],
    to embeddings [batch, hidden]) and its external weights by name. `weights` as SentenceEncoder
    keeps them (dense kernels already transposed to [in, out])."""
    g = GraphBuilder()
    width = weights["embeddings.word_embeddings.weight"].shape[1]
    hidden = _embeddings(g, weights, eps)
    keep = g.op("Unsqueeze", "attention_mask", g.constant(np.array([1, 2], dtype=np.int64)))
    bias = g.op("Mul", g.op("Sub", g.constant(np.float32(1.0)), keep), g.constant(np.float32(-1e9)))
    for layer in range(layers):
        hidden = _layer(g, hidden, bias, weights, f"encoder.layer.{layer}.", heads, width, eps)
    output = _mean_pooled_unit_vectors(g, hidden)
    graph = helper.make_graph(
        g.nodes, "all-MiniLM-L6-v2",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "tokens"]),
         helper.make_tensor_value_info("attention_mask", TensorProto.FLOAT, ["batch", "tokens"])],
        [helper.make_tensor_value_info(output, TensorProto.FLOAT, ["batch", width])],
        initializer=g.initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8  # what onnxruntime 1.23 reads
    return model.SerializeToString(), g.external
