"""`SemanticVerifier`: grounding that checks meaning, not vocabulary (issue #18).

The quote must still be verbatim in the chunk and the answer's names and numbers must
stand in it, exactly as for the lexical verifier. What changes is "is the evidence about
the question?": besides sharing the question's names or words, evidence passes when its
MiniLM embedding is close enough to the question's, so "which file holds my personal
client settings?" can be grounded by "~/.ssh/config: the per-user configuration file".

`could_ground` keeps the verifier contract exactly: a chunk could ground an answer when
it could lexically, or when some window `check` may take as evidence (a sentence, or a
sentence with its neighbours) is that close to the question.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from longagent.agents import evidence
from longagent.agents.member import MemberReply
from longagent.agents.question import Question
from longagent.agents.verifier import Check, register_verifier
from longagent.memory.embedder import Embedder, MiniLMEmbedder
from longagent.text import full_names, sentences, words

# Cosine similarity of MiniLM question/evidence pairs above which evidence counts as being
# about the question; a starting point until calibrated on the natural dev set.
THRESHOLD = 0.5
# For a question naming only the document's subject, similarity is measured with the
# subject's names (and the rest of each name, "Saskia Okafor") left out of both texts:
# every sentence names them, lifting all alike. Calibrated on the one-person story's dev
# questions only (seeds 0-11, issue #18): the best sentence that does not answer scored at
# most 0.46 (for "What was the name of Ines's cat?", the sentence about her dog; every
# other at most 0.38), the answer's sentence 0.33-0.84 (5 of 7 questions at 0.49 or more
# on every seed).
SUBJECT_THRESHOLD = 0.48
CACHE_TEXTS = 50_000  # embedded windows kept, so a chunk's windows are embedded once


@register_verifier("semantic")
class SemanticVerifier:
    def __init__(
        self,
        embedder: Embedder | None = None,
        threshold: float = THRESHOLD,
        subject_threshold: float = SUBJECT_THRESHOLD,
    ) -> None:
        self.embedder = embedder
        self.threshold = threshold
        self.subject_threshold = subject_threshold
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lexical = evidence.LexicalVerifier()

    def check(self, reply: MemberReply, chunk: str, question: Question) -> Check:
        return evidence.check(reply.answer, reply.quote, chunk, question, self._about)

    def could_ground(self, chunk: str, question: Question) -> bool:
        lexical = question.bridge or question.entities - question.document_subject
        if lexical and self._lexical.could_ground(chunk, question):
            return True
        windows = [chunk[a:b] for a, b in evidence_windows(chunk)]
        return bool(windows) and max(self.similarities(question, windows)) >= self._bar(question)

    def focus(self, chunk: str, question: Question) -> str:
        return self._lexical.focus(chunk, question)

    def same_answer(self, a: str, b: str) -> bool:
        return self._lexical.same_answer(a, b)

    def _about(
        self, question: Question, chunk: str, held: set[str], span: tuple[int, int]
    ) -> Check:
        """A follow-up's bridge or the question's names and numbers in the evidence settle
        it, as for the lexical verifier; shared common words do not (a question about
        encryption shares "data" and "transfer" with the evidence about compression):
        otherwise the evidence must be close to the question in meaning."""
        lexical = evidence.lexical_about(question, chunk, held, span)
        named = question.bridge or question.entities - question.document_subject
        if lexical.verdict == "grounded" and named:
            return lexical
        (similarity,) = self.similarities(question, [chunk[span[0] : span[1]]])
        if similarity >= self._bar(question):
            return Check("grounded", f"the evidence is about the question ({similarity:.2f})", span)
        return Check("unsupported", f"{lexical.reason} (similarity {similarity:.2f})", span)

    def _bar(self, question: Question) -> float:
        return self.subject_threshold if question.document_subject else self.threshold

    def similarities(self, question: Question, texts: list[str]) -> list[float]:
        """Cosine similarity of the question (with a follow-up's bridge) to each text; the
        document's subject's names are left out of both (`SUBJECT_THRESHOLD`)."""
        if self.embedder is None:
            self.embedder = MiniLMEmbedder()
        names = {w for name in question.document_subject for w in name.split()}
        query = _without(f"{question.text} {question.bridge}", names)
        keys = [query, *(_without(t, names) for t in texts)]
        missing = list(dict.fromkeys(k for k in keys if k not in self._vectors))
        if missing:
            for key, vector in zip(missing, self.embedder.embed(missing), strict=True):
                self._vectors[key] = vector
        for key in keys:
            self._vectors.move_to_end(key)
        while len(self._vectors) > CACHE_TEXTS:
            self._vectors.popitem(last=False)
        q = self._vectors[keys[0]]
        return [float(self._vectors[k] @ q) for k in keys[1:]]


def _without(passage: str, names: set[str]) -> str:
    """`passage` with its whitespace collapsed and `names` left out, each with the rest of
    its name where the passage gives it ("Saskia Okafor")."""
    kept = passage.split()
    if names:
        full = full_names(names, passage)
        kept = [w for w in kept if not set(words(w)) & full]
    return " ".join(kept)


def evidence_windows(chunk: str) -> list[tuple[int, int]]:
    """Every span `check` may take as evidence: each sentence, and each sentence with its
    neighbours (an answer that runs over)."""
    spans = sentences(chunk)
    out = list(spans)
    for i in range(len(spans)):
        wide = (spans[max(0, i - 1)][0], spans[min(len(spans) - 1, i + 1)][1])
        if wide not in out:
            out.append(wide)
    return [s for s in out if words(chunk[s[0] : s[1]])]
