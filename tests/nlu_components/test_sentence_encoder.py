"""The NumPy sentence encoder gives all-MiniLM-L6-v2's own embeddings, so the features DIET
learns from mean what the model was trained to mean."""
from __future__ import annotations

import numpy as np
import pytest
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from nlu_components.sentence_encoder import SentenceEncoder
from nlu_components.sentence_featurizer import SentenceEmbeddingFeaturizer, shared_encoder


@pytest.fixture(scope="module")
def encoder() -> SentenceEncoder:
    return shared_encoder()


def test_embeddings_match_the_reference_implementation(encoder):
    # First six dimensions from sentence-transformers 6.3.0 (PyTorch 2.13 CPU) loading the same
    # package, normalize_embeddings=True.
    where, refund = encoder.encode(
        ["where is my order", "Can I get a refund for order 104701? It arrived broken!!"])
    assert where[:6] == pytest.approx([-0.00621, -0.02604, 0.06837, 0.01874, 0.00462, 0.02651],
                                      abs=2e-5)
    assert refund[:6] == pytest.approx([-0.12304, -0.01057, 0.089, 0.00079, 0.04734, -0.04688],
                                       abs=2e-5)


def test_a_paraphrase_is_closer_than_an_unrelated_request(encoder):
    order, shipped, weather = encoder.encode(
        ["where is my order", "has my package shipped yet?", "what's the weather in Paris"])
    assert float(order @ shipped) == pytest.approx(0.4393, abs=1e-3)
    assert float(order @ shipped) > float(order @ weather) + 0.3


def test_odd_messages_still_get_a_unit_vector(encoder):
    texts = ["", "   ", "🎄🎁", "a" * 20_000, "ORDER #104701!!!"]
    vectors = encoder.encode(texts)
    assert vectors.shape == (len(texts), encoder.dimension)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_the_onnx_graph_computes_what_the_numpy_pass_computes(encoder):
    """onnxruntime runs the encoder (nlu_components/encoder_graph.py); the NumPy pass is the
    reference, in one batch of mixed lengths (padding) and one text at a time."""
    reference = SentenceEncoder(backend="numpy")
    texts = ["hi", "where is my order 104701?", "", "Ich möchte mein Paket zurückschicken 🎁",
             "I need a gift for my dad under $50 who likes golf and cooking " * 6]
    assert np.allclose(encoder.encode(texts), reference.encode(texts), atol=1e-5)
    assert np.allclose(encoder.encode(texts[1:2]), reference.encode(texts[1:2]), atol=1e-5)


def test_batching_by_length_keeps_each_text_with_its_own_vector(encoder):
    texts = ["hi", "I would like to exchange the red jumper for a larger size please", "refund"]
    together = encoder.encode(texts, batch_size=2)
    alone = np.vstack([encoder.encode([text]) for text in texts])
    assert np.allclose(together, alone, atol=1e-5)


def test_featurizer_adds_one_sentence_vector_per_message_with_words():
    """SpacyTokenizer leaves a message of spaces without tokens, so it gets no count vectors;
    an embedding alone would hand DIET a feature set it was not trained on (CI caught this as
    a crash on "   ")."""
    featurizer = SentenceEmbeddingFeaturizer({"alias": "sentence"}, "sentence", shared_encoder())
    words = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config()).process(
        [Message(data={TEXT: "where is my parcel"})])[0]
    spaces = Message(data={TEXT: "   ", TOKENS_NAMES[TEXT]: []})
    no_text = Message(data={"intent": "greet"})
    featurizer.process([words, spaces, no_text])
    sequence, sentence = words.get_dense_features(TEXT)
    assert sequence is None
    assert sentence.features.shape == (1, shared_encoder().dimension)
    assert spaces.features == []
    assert no_text.features == []
