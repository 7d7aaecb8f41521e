"""Documents and facts shared by the scripted LongAgent tests."""

from __future__ import annotations

from longagent.chunking import Document

FILLER = "Modules provide functions and classes for many ordinary tasks in programs. " * 6
BORN_RENDA = "Kalomi was born in the town of Renda."
BORN_TOSA = "Kalomi was born in the town of Tosa."
FAMOUS = "The town of Renda is famous for its glass bells."


def document(*facts: str) -> Document:
    """One paragraph per fact, each among filler, so each lands in its own chunk (at
    chunk_tokens=120)."""
    paragraphs = [FILLER]
    for fact in facts:
        paragraphs += [f"{FILLER}{fact} {FILLER}", FILLER]
    return Document.create("\n\n".join(paragraphs))
