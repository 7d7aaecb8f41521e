"""Subprocess for test_reliability: writes to a store one row at a time and prints the
id of each acknowledged write (flushed), so the parent knows what must survive.

    python _writer.py HOME TAG COUNT VECTORS.npz [thoughts]     (COUNT 0: until killed)

The parent embeds the texts with the real embedder and passes the vectors, so writers
start in a second instead of loading torch. With `thoughts`, every third step also
inserts one of FACTS into thought memory, which reads before it writes, so concurrent
writers must not both insert the same finding. Prints "ready", then waits for "go".
"""

from __future__ import annotations

import sys

import numpy as np

from longagent.memory import ArchivalEntry, MemoryStore, ThoughtMemory

FACTS = [
    "The Nile flows north into the Mediterranean.",
    "Copper is an excellent conductor of electricity.",
    "Whales breathe air through a blowhole.",
    "Mount Everest sits on the border of Nepal and China.",
    "Honey never spoils if it is sealed.",
    "The violin has four strings tuned in fifths.",
    "Photosynthesis turns light into chemical energy.",
    "Chess originated in India around the sixth century.",
]


def note(tag: str, i: int) -> str:
    return f"{tag} wrote note number {i} about topic {i % 7}"


def main() -> None:
    home, tag, count, vectors_path = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    with_thoughts = sys.argv[5:] == ["thoughts"]
    vectors = np.load(vectors_path)
    notes, facts = vectors[tag], vectors["facts"]
    # Optimize often, so a kill can also land in compaction and index updates.
    store = MemoryStore(home, optimize_every=5)
    thoughts = ThoughtMemory(store.thoughts, max_thoughts=None)
    print("ready", flush=True)
    if sys.stdin.readline().strip() != "go":
        return
    i = 0
    while count == 0 or i < count:
        if with_thoughts and i % 3 == 2 and i // 3 < len(FACTS):
            thoughts.insert(FACTS[i // 3], doc_id="shared", vector=facts[i // 3])
        entry = ArchivalEntry(text=note(tag, i), tags=[tag])
        [written] = store.archival.add([entry], vectors=notes[i % len(notes)][None, :])
        print(written, flush=True)
        i += 1


if __name__ == "__main__":
    main()
