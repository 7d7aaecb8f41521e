"""Documents in: loaders per format and token-aware splitting with exact character offsets.

doc = load("report.pdf")                       # or bytes, or a string of text
chunks = split(doc, model.count_tokens, chunk_budget(model))
doc.text[chunks[0].start:chunks[0].end] == chunks[0].text
"""

from longagent.chunking.document import Chunk, Document, DocumentFormat, Heading
from longagent.chunking.loaders import LOADERS, load
from longagent.chunking.splitter import chunk_budget, split

__all__ = [
    "LOADERS",
    "Chunk",
    "Document",
    "DocumentFormat",
    "Heading",
    "chunk_budget",
    "load",
    "split",
]
