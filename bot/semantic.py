"""The meaning-based stage of the matcher: sentence embeddings, and how close a message comes to
each class of the content.

A message and every content example become vectors; a class (an intent, an off-topic topic) is
as close to a message as its few nearest examples are on average (`NEAREST`). Words the content never uses still count here:
"my screen went black and won't come back" lands near "phone frozen" although the two share
no word, which the lexical stage cannot see.

The model is WordLlama's `l2_supercat_256` (MIT): a 32,000-token table of static embeddings
(16 MB, inside the `wordllama` wheel) with LLaMA 2's tokenizer; a sentence is the mean of its
tokens' vectors. It is read from the installed package's own folder with `tokenizers` and
`safetensors`: nothing is fetched from a model hub, and the `wordllama` package itself is never
imported (its `__init__` calls `logging.basicConfig(level=INFO)`, which would turn on the
request logs that carry the bot token).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt
from safetensors import safe_open
from tokenizers import Tokenizer

from bot.errors import FixbotError

Vectors = npt.NDArray[np.float32]

MODEL: Final = "wordllama l2_supercat_256"
_PACKAGE: Final = "wordllama"
_WEIGHTS: Final = Path("weights") / "l2_supercat_256.safetensors"
_TOKENIZER: Final = Path("tokenizers") / "l2_supercat_tokenizer_config.json"
LANGUAGES: Final = frozenset({"en"})
"""The languages the model was trained on, and so the ones the meaning-based stage serves;
in any other the matcher goes by its lexical stage alone (with that language's stemmer, stop
words and spelling)."""
NEAREST: Final = 3
"""How many of a class's nearest examples its likeness is averaged over. One (the nearest
alone) lets a single loosely written example pull in messages that are not the class's; the
whole class (its centroid) blurs intents with varied examples. Measured by fitting on one dev
set and measuring on the other: 3 held best on both (README, "Matching")."""
_MAX_TOKENS: Final = 256
"""Tokens read from one text: a clause is far shorter; a pasted log is cut."""


class ModelError(FixbotError):
    """The embedding model's files are not where the installed package keeps them."""


class StaticEmbedder:
    """Mean-pooled static token embeddings, unit length."""

    def __init__(self, table: Vectors, tokenizer: Tokenizer, name: str) -> None:
        self.name = name
        self._table = table
        self._tokenizer = tokenizer
        self._cache: dict[str, Vectors] = {}

    def embed(self, texts: Sequence[str]) -> Vectors:
        out = np.zeros((len(texts), self._table.shape[1]), dtype=np.float32)
        encoded = self._tokenizer.encode_batch(list(texts), add_special_tokens=False)
        for row, encoding in enumerate(encoded):
            ids = encoding.ids[:_MAX_TOKENS]
            if ids:
                vector = self._table[ids].mean(axis=0)
                norm = float(np.linalg.norm(vector))
                if norm > 0:
                    out[row] = vector / norm
        return out

    def embed_content(self, texts: Sequence[str]) -> Vectors:
        """`embed`, remembering each text: the content's examples are embedded once, however
        many matchers are built from them (leave-one-out builds hundreds)."""
        missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if missing:
            for text, vector in zip(missing, self.embed(missing), strict=True):
                self._cache[text] = vector
        if not texts:
            return np.zeros((0, self._table.shape[1]), dtype=np.float32)
        return np.stack([self._cache[t] for t in texts])


def _package_folder() -> Path:
    # find_spec locates the package without running its __init__ (see the module docstring).
    spec = importlib.util.find_spec(_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(f"the {_PACKAGE} package is not installed (pip install {_PACKAGE})")
    return Path(next(iter(spec.submodule_search_locations)))


@lru_cache(maxsize=1)
def default_embedder() -> StaticEmbedder:
    """The shipped model, loaded once per process from the installed package's folder."""
    folder = _package_folder()
    weights, tokenizer_file = folder / _WEIGHTS, folder / _TOKENIZER
    for path in (weights, tokenizer_file):
        if not path.is_file():
            raise ModelError(f"{path} is missing: reinstall the {_PACKAGE} package")
    with safe_open(str(weights), framework="np", device="cpu") as f:
        table = np.ascontiguousarray(f.get_tensor("embedding.weight"), dtype=np.float32)
    tokenizer = Tokenizer.from_file(str(tokenizer_file))
    tokenizer.no_padding()
    tokenizer.no_truncation()
    return StaticEmbedder(table, tokenizer, MODEL)


@dataclass(frozen=True)
class Nearest:
    """How close one text came to each class: the mean cosine of its `NEAREST` nearest
    examples, and which example was nearest."""

    similarity: dict[str, float]
    example: dict[str, int]
    """class -> the position of its nearest example in `SemanticIndex.texts`."""


class SemanticIndex:
    """The content's examples as vectors, grouped by class (intent or off-topic topic)."""

    def __init__(self, embedder: StaticEmbedder, examples: Sequence[tuple[str, str]]) -> None:
        """`examples`: (class id, text) pairs."""
        ordered = sorted(range(len(examples)), key=lambda i: examples[i][0])
        self.classes: list[str] = []
        starts: list[int] = []
        for position, i in enumerate(ordered):
            if not self.classes or examples[i][0] != self.classes[-1]:
                self.classes.append(examples[i][0])
                starts.append(position)
        self.texts = [examples[i][1] for i in ordered]
        self._starts = np.array(starts, dtype=np.intp)
        self._sizes = np.diff([*starts, len(ordered)])
        self._class_of = np.repeat(np.arange(len(starts)), self._sizes)
        self._vectors = embedder.embed_content(self.texts)
        self._embedder = embedder

    def nearest(self, texts: Sequence[str]) -> list[Nearest]:
        """For each text, every class's nearest example."""
        if not texts:
            return []
        if not self.classes:
            return [Nearest({}, {}) for _ in texts]
        similarities = self._embedder.embed(texts) @ self._vectors.T
        starts, sizes = self._starts, self._sizes
        found = []
        for row in similarities:
            # Examples ordered by class, then by likeness: each class's nearest come first.
            order = np.lexsort((-row, self._class_of))
            total = np.zeros(len(starts))
            for rank in range(NEAREST):
                has = sizes > rank
                picks = order[np.minimum(starts + rank, len(order) - 1)]
                total += np.where(has, row[picks], 0.0)
            likeness = total / np.minimum(sizes, NEAREST)
            nearest = order[starts]
            found.append(
                Nearest(
                    dict(zip(self.classes, likeness.tolist(), strict=True)),
                    dict(zip(self.classes, nearest.tolist(), strict=True)),
                )
            )
        return found
