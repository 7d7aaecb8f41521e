"""Which chunks likely answer a question: lexical, embedding and recalled-thought ranks,
fused.

Relevance-first reading asks the likeliest members first and stops once grounded evidence
stands. Rankings are fused by reciprocal rank (as in hybrid search), because each fails
differently: rare question words (names, numbers) pin the chunk that holds a fact,
embeddings find chunks that paraphrase the question, and recalled thoughts (what members
grounded in earlier questions over the same document) find a chunk whose wording matches
neither, once an earlier question has tied it to the subject.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import replace

import numpy as np

from longagent import text
from longagent.agents.question import Question
from longagent.agents.ranking import bm25_scores
from longagent.agents.thoughts import Thought
from longagent.chunking import Chunk
from longagent.memory.embedder import Embedder

# A name standing in more than half of at least this many chunks is the document's subject;
# a shorter document is swept whole anyway.
SUBJECT_CHUNKS = 8
WINDOW_WORDS = 150  # MiniLM reads 256 word pieces; longer chunks are embedded in windows
# Thoughts vote for this many chunks at most: MiniLM rates any two sentences about one
# person alike (0.55-0.7, measured), so without a cap, a session of questions about one
# person would fill the first wave with chunks that answered other questions.
RECALLED_CHUNKS = 2
# A thought sharing no question word must still be a paraphrase to vote: MiniLM puts
# unrelated sentences below 0.2 and paraphrases above 0.4 (measured), halved in the mean.
MIN_THOUGHT_MATCH = 0.2


def subject_names(question: Question, chunks: Sequence[Chunk]) -> frozenset[str]:
    """The question's names when every one stands in more than half of the document's
    chunks (at least SUBJECT_CHUNKS of them), else none: the document is about them (a
    life story's heroine, a man page's command), so they pin no chunk and any sentence
    names them. Measured on the one-person story (issue #18): the sweep read 43 of 43
    chunks per question, 537 s each, and junk sentences naming her passed as evidence. A
    record key, a number or a follow-up's bridge pins its record: never a subject. A
    hyphenated name standing in most chunks pins none, though, so it is no record's key
    but the subject: "ssh-keygen" in its own manual (blind7's keygen-06, where any
    sentence naming it was evidence, wrong but found)."""
    if question.bridge or not question.entities:
        return frozenset()
    common = everywhere(question.entities, chunks)
    # Keys among its names only: a hyphenated word the document never writes is the asker's
    # ("round-trip", `unsaid_compounds`), no key; it kept "TCP", in 9 of ss(8)'s 11
    # chunks, from being the subject, and all 9 were read whole (blind8's ss-03, 134 s).
    keys = set(text.record_keys(question.text)) & question.entities
    if common != question.entities or keys - common:
        return frozenset()
    return question.entities


def unsaid_compounds(question: Question, chunks: Sequence[Chunk]) -> frozenset[str]:
    """The question's hyphenated words of letters alone ("curly-brace", "non-root") that
    no chunk holds: the asker's wording, not a name the document gives, so they must
    neither pin chunks nor be required of evidence (`Question.worded`). Taken as names,
    they kept every reply from grounding: 11 of the natural suite's 157 lookups ask with
    one their document never writes. One the document holds stays a name (RULER's key
    "grubby-color"), and so does one with a digit ("sha-256": a thing the document must
    name to answer), and so does a quoted one (a key)."""
    quoted = {k.lower() for k in question.keys}
    compounds = {c for c in text.compounds(question.text) - quoted if c.replace("-", "").isalpha()}
    if not compounds:
        return frozenset()
    held = frozenset().union(*(_words_of(c.text) for c in chunks))
    return frozenset(c for c in compounds if c not in held)


def in_document(question: Question, chunks: Sequence[Chunk]) -> Question:
    """The question as this document reads it: its hyphenated words the document never
    uses taken as plain words, its subject's names and the document's common words marked
    (`subject_names`, `common_words`)."""
    question = question.worded(unsaid_compounds(question, chunks))
    return replace(
        question,
        document_subject=subject_names(question, chunks),
        document_common=common_words(question, chunks),
    )


def common_words(question: Question, chunks: Sequence[Chunk]) -> frozenset[str]:
    """The question's content words standing in more than half of the document's chunks
    (at least SUBJECT_CHUNKS of them): the document's own vocabulary, which says nothing
    about what is asked. Over bash(1), "shell" stands in 73% of the chunks, and a heading
    sharing "shell" and "type" with "Where does the shell look for the programs I type?"
    passed as evidence (wrong but found). BM25 drops such words from the ranking too."""
    if question.bridge:
        return frozenset()
    return everywhere(question.content_words, chunks)


def everywhere(terms: Iterable[str], chunks: Sequence[Chunk]) -> frozenset[str]:
    """Those of `terms` (lowercase words or names of several words) that stand in more
    than half of the document's chunks, at least SUBJECT_CHUNKS of them: the document's
    own subject or vocabulary, which pins no chunk."""
    terms = frozenset(terms)
    if not terms or len(chunks) < SUBJECT_CHUNKS:  # a leader's empty bridge reads nothing
        return frozenset()
    held = [_words_of(c.text) for c in chunks]
    return frozenset(
        t for t in terms if sum(set(t.split()) <= words for words in held) * 2 > len(chunks)
    )


@functools.lru_cache(maxsize=4096)
def _words_of(chunk_text: str) -> frozenset[str]:
    """A chunk's words, split once: `everywhere` reads every chunk for every question."""
    return frozenset(text.words(chunk_text))


def lexical_scores(question: Question, chunks: Sequence[Chunk]) -> list[float]:
    """BM25 score of each chunk for the question's words (the search's ranking)."""
    return bm25_scores(question.text, [c.text for c in chunks])


def windows(chunk_text: str) -> list[str]:
    tokens = chunk_text.split()
    step = WINDOW_WORDS // 2  # overlapping, so no sentence is only ever cut in half
    return [" ".join(tokens[i : i + WINDOW_WORDS]) for i in range(0, max(1, len(tokens)), step)]


def chunk_vectors(chunks: Sequence[Chunk], embedder: Embedder) -> list[np.ndarray]:
    """Per chunk, the vectors of its windows (embedded in one call)."""
    spans = [windows(c.text) for c in chunks]
    vectors = embedder.embed([w for s in spans for w in s])
    out, start = [], 0
    for s in spans:
        out.append(vectors[start : start + len(s)])
        start += len(s)
    return out


def embedding_scores(
    question: Question, vectors: Sequence[np.ndarray], embedder: Embedder
) -> list[float]:
    """Each chunk's best window's cosine similarity to the question."""
    query = embedder.embed([question.text])[0]
    return [float((v @ query).max()) if len(v) else 0.0 for v in vectors]


def thought_scores(
    question: Question, thoughts: Sequence[Thought], chunks: Sequence[Chunk], embedder: Embedder
) -> list[float]:
    """Per chunk, how well its best recalled thought matches `question`: the mean of the
    (weighted) share of the question's words the thought holds and their cosine
    similarity. Only the RECALLED_CHUNKS best chunks, matching at least MIN_THOUGHT_MATCH,
    score; every other chunk, and any chunk without thoughts, scores 0. Embeds each
    thought once, keeping its vector on the thought."""
    scores = [0.0] * len(chunks)
    index = {c.id: c.index for c in chunks}
    thoughts = [t for t in thoughts if t.chunk_id in index]
    if not thoughts:
        return scores
    unembedded = [t for t in thoughts if t.vector is None]
    vectors = embedder.embed([question.text] + [t.text for t in unembedded])
    for thought, vector in zip(unembedded, vectors[1:], strict=True):
        thought.vector = vector
    query = vectors[0]
    names = question.entities
    # Names and numbers weigh double: they pin the subject an earlier question was about.
    weights = {w: 2.0 if w in names else 1.0 for w in question.content_words | names}
    total = sum(weights.values())
    for thought in thoughts:
        held = f" {text.normalize(thought.text)} "  # padded: whole words and phrases only
        share = sum(w for word, w in weights.items() if f" {word} " in held) / total if total else 0
        similarity = float(thought.vector @ query) if thought.vector is not None else 0.0
        match = (share + similarity) / 2
        chunk = index[thought.chunk_id]
        if match >= MIN_THOUGHT_MATCH:
            scores[chunk] = max(scores[chunk], match)
    voted = sorted(range(len(chunks)), key=lambda i: -scores[i])[:RECALLED_CHUNKS]
    return [score if i in voted else 0.0 for i, score in enumerate(scores)]
