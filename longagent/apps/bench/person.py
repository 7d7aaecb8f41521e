"""The one-person suite: a seeded ~20K-token life story in which one name is in every chunk.

Retrieval by the person's name cannot narrow anything down here: every paragraph names
her. Among many ordinary days the generator places a dozen distinctive events; each
question asks about one of them in other words than the story uses, and three ask about
things the story never mentions (a cat, a university, a car).
"""

from __future__ import annotations

import random
from collections.abc import Callable

from longagent.apps.bench.natural_data import NaturalQuestion

FIRST_NAMES = ("Ines", "Maren", "Odile", "Priya", "Saskia", "Thea")
SURNAMES = ("Varga", "Lindqvist", "Okafor", "Moreau", "Halloran", "Szabo")

# Ordinary days: the filler never uses any word an answer uses.
_DAYS = (
    "{first} spent the morning {chore} and then walked to the {place} with {friend}.",
    "On a grey {weekday}, {first} {chore_past} before lunch and phoned {friend} in the evening.",
    "{first} wrote in her notebook that the {place} had been crowded all afternoon.",
    "{friend} visited {first} on {weekday}; they talked about the weather and {topic}.",
    "{first} {chore_past}, read for an hour and went to bed early.",
    "That {season}, {first} often met {friend} at the {place} to talk about {topic}.",
    "{first} told {friend} that she wanted more quiet evenings and fewer errands.",
)
_CHORES = ("sorting old letters", "repainting a shelf", "mending curtains", "washing windows")
_CHORES_PAST = ("sorted old letters", "repainted a shelf", "mended curtains", "washed windows")
_PLACES = ("market", "library", "bakery", "post office", "harbour wall", "community hall")
_FRIENDS = ("Agnes", "Bruno", "Clara", "Dmitri", "Elif", "Farid")
_TOPICS = ("the neighbours", "rising prices", "old films", "the town council", "the tides")
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_SEASONS = ("spring", "summer", "autumn", "winter")

# (event sentence, question, accepted answers); slots are filled from the pools below.
_EVENTS = (
    (
        "{first} {last} took in a three-legged greyhound from the shelter and named it {dog}.",
        "What did {first} call the dog she adopted?",
        ["{dog}"],
    ),
    (
        "{first} {last} learned to play the {instrument} from a retired sailor.",
        "Which musical instrument did {first} take up?",
        ["{instrument}"],
    ),
    (
        "{first} {last} broke her left wrist when she fell off a {vehicle}.",
        "How did {first} end up hurting her arm?",
        ["{vehicle}"],
    ),
    (
        "{first} {last} won second prize at the county fair with her {dish}.",
        "What did {first} cook that earned her a prize?",
        ["{dish}"],
    ),
    (
        "For eleven months {first} {last} worked as a {job} before she quit.",
        "What job did {first} hold for almost a year?",
        ["{job}"],
    ),
    (
        "{first} {last} published her first book, a collection of essays called {title}.",
        "What was the title of the first book {first} put out?",
        ["{title}"],
    ),
    (
        "{first} {last} moved to {city} to live near her brother {brother}.",
        "Which city did {first} relocate to so she could be close to a sibling?",
        ["{city}"],
    ),
    (
        "{first} {last} ran her first marathon in {hours} hours and {minutes} minutes.",
        "How long did it take {first} to finish her first marathon?",
        ["{hours} hours and {minutes} minutes"],
    ),
    (
        "{first} {last} married {spouse}, a beekeeper she met at a night class.",
        "Who did {first} wed?",
        ["{spouse}"],
    ),
    (
        "{first} {last} opened a small workshop that repaired {things}.",
        "What did the business {first} started fix?",
        ["{things}"],
    ),
    (
        "{first} {last} gave up eating {food} after a bad night at a seaside inn.",
        "Which food did {first} stop eating?",
        ["{food}"],
    ),
    (
        "{first} {last} planted {trees} apple trees behind her house.",
        "How many trees did {first} plant in her garden?",
        ["{trees}"],
    ),
)
_ABSENT = (
    ("What was the name of {first}'s cat?", ["cat", "kitten"]),
    ("Which university did {first} graduate from?", ["university", "degree", "graduat"]),
    ("What make of car did {first} drive?", [" car ", " car.", "drove", "drive"]),
)
_POOLS = {
    "dog": ("Pepper", "Biscuit", "Juniper", "Maple"),
    "instrument": ("accordion", "cello", "banjo", "clarinet"),
    "vehicle": ("unicycle", "tandem bicycle", "hay cart", "pony"),
    "dish": ("plum dumplings", "rhubarb tart", "fish stew", "walnut bread"),
    "job": ("lighthouse keeper", "ferry mechanic", "night nurse", "piano tuner"),
    "title": ("Salt and Lanterns", "The Narrow Stair", "Weather for Beginners", "Small Hours"),
    "city": ("Tallinn", "Porto", "Trieste", "Gdansk"),
    "brother": ("Tobias", "Anselm", "Jonas", "Kasimir"),
    "hours": ("four", "five"),
    "minutes": ("twelve", "forty", "nineteen", "thirty-one"),
    "spouse": ("Ruben Castell", "Yusuf Demir", "Lorenz Aalto", "Olek Nowak"),
    "things": ("clocks", "umbrellas", "typewriters", "violins"),
    "food": ("oysters", "mushrooms", "prawns", "sardines"),
    "trees": ("seven", "nine", "eleven", "thirteen"),
}


def make_person(
    count_tokens: Callable[[str], int], tokens: int = 20_000, seed: int = 0
) -> tuple[str, list[NaturalQuestion]]:
    """The story (about `tokens` long) and its questions; the same seed gives the same pair."""
    rng = random.Random(seed)
    slots = {key: rng.choice(pool) for key, pool in _POOLS.items()}
    slots |= {"first": rng.choice(FIRST_NAMES), "last": rng.choice(SURNAMES)}

    def day() -> str:
        return rng.choice(_DAYS).format(
            first=slots["first"],
            chore=rng.choice(_CHORES),
            chore_past=rng.choice(_CHORES_PAST),
            place=rng.choice(_PLACES),
            friend=rng.choice(_FRIENDS),
            topic=rng.choice(_TOPICS),
            weekday=rng.choice(_WEEKDAYS),
            season=rng.choice(_SEASONS),
        )

    # Paragraphs of ordinary days, about 60 tokens each, until the length is reached.
    paragraphs: list[str] = []
    total = 0
    while total < tokens:
        paragraph = " ".join(day() for _ in range(4))
        paragraphs.append(paragraph)
        total += count_tokens(paragraph) + 1
    # Events spread evenly from start to end, each appended to a paragraph.
    for i, (event, _, _) in enumerate(_EVENTS):
        at = round(i * (len(paragraphs) - 1) / (len(_EVENTS) - 1))
        paragraphs[at] += " " + event.format(**slots)
    story = "\n\n".join(paragraphs)
    questions = [
        NaturalQuestion(
            id=f"person-{i + 1:02d}",
            document=f"person-seed{seed}",
            question=question.format(**slots),
            kind="lookup",
            answers=[a.format(**slots) for a in answers],
            split="dev" if i % 5 in (0, 2, 4) else "test",
            evidence=[event.format(**slots)],
        )
        for i, (event, question, answers) in enumerate(_EVENTS)
    ]
    questions += [
        NaturalQuestion(
            id=f"person-absent-{i + 1}",
            document=f"person-seed{seed}",
            question=question.format(**slots),
            kind="absent",
            answers=["not found"],
            split="dev" if i != 1 else "test",
            not_in_document=words,
        )
        for i, (question, words) in enumerate(_ABSENT)
    ]
    return story, questions
