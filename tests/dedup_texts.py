"""Synthetic but realistic texts for dedup tests and the benchmark: sentences of 30-80 words built
from a vocabulary of facts, and rewordings of them (a few words changed, two clauses swapped)."""

from __future__ import annotations

import random

SUBJECTS = [
    "the river",
    "a small bakery",
    "the city council",
    "our research team",
    "the old lighthouse",
    "a migrating flock",
    "the school library",
    "the night train",
    "a local farmer",
    "the museum",
    "the satellite",
    "a young violinist",
    "the harbour crane",
    "the mountain village",
    "the hospital",
]
VERBS = [
    "reported",
    "built",
    "measured",
    "described",
    "opened",
    "repaired",
    "studied",
    "planted",
    "recorded",
    "painted",
    "translated",
    "delivered",
    "tested",
    "mapped",
    "restored",
]
OBJECTS = [
    "a new bridge",
    "fresh bread every morning",
    "the annual rainfall",
    "seventeen rare orchids",
    "a detailed map of the coast",
    "the broken clock tower",
    "an exhibition of glass",
    "the solar panels",
    "a choir of forty voices",
    "the winter schedule",
    "an ancient manuscript",
    "the water pumps",
    "a garden of herbs",
    "the signal beacon",
    "a cargo of timber",
]
PLACES = [
    "near the northern border",
    "in the valley",
    "beside the harbour",
    "at the edge of town",
    "under the old oak",
    "on the eastern plain",
    "across the bay",
    "behind the station",
    "inside the castle walls",
    "along the canal",
    "on the hilltop",
    "in the market square",
]
TIMES = [
    "last spring",
    "during the storm",
    "before sunrise",
    "in nineteen ninety",
    "every winter",
    "after the festival",
    "on a quiet Sunday",
    "for three decades",
    "within a week",
    "at midnight",
]
REASONS = [
    "because the roads were closed",
    "so that visitors could learn more",
    "to help the neighbours",
    "while the tide was low",
    "although funding was scarce",
    "since nobody else had tried",
    "as the mayor had promised",
    "despite the heavy snow",
    "for the children of the region",
]
SWAPS = {
    "built": "constructed",
    "reported": "announced",
    "studied": "examined",
    "opened": "launched",
    "small": "little",
    "new": "modern",
    "old": "ancient",
    "quiet": "calm",
    "heavy": "thick",
    "annual": "yearly",
    "detailed": "precise",
    "broken": "damaged",
    "young": "youthful",
}
FILLERS = ["also", "then", "again", "quickly", "carefully", "finally", "even", "still", "soon"]


def sentence(rng: random.Random) -> str:
    parts = [
        rng.choice(SUBJECTS),
        rng.choice(FILLERS),
        rng.choice(VERBS),
        rng.choice(OBJECTS),
        rng.choice(PLACES),
        rng.choice(TIMES),
        rng.choice(REASONS),
    ]
    return " ".join(parts).capitalize() + "."


def text(rng: random.Random, min_words: int = 30, max_words: int = 80) -> str:
    """A paragraph of `min_words` to `max_words` words (rounded to whole sentences) with a number in it."""
    goal = rng.randint(min_words, max_words)
    sentences = [f"Item {rng.randint(1, 10**9)} says:"]
    while sum(len(s.split()) for s in sentences) < goal:
        sentences.append(sentence(rng))
    return " ".join(sentences)


def reword(rng: random.Random, original: str, changes: int = 2) -> str:
    """The same facts with a few words changed (synonyms, or a word dropped) and two neighbouring
    sentences swapped."""
    words = original.split()
    candidates = [i for i, w in enumerate(words) if w.strip(".,").lower() in SWAPS or w in FILLERS]
    for i in rng.sample(candidates, min(changes, len(candidates))):
        bare = words[i].strip(".,").lower()
        words[i] = SWAPS.get(bare, "")
    sentences = " ".join(w for w in words if w).split(". ")
    if len(sentences) > 3:
        at = rng.randrange(1, len(sentences) - 2)
        sentences[at], sentences[at + 1] = sentences[at + 1], sentences[at]
    return ". ".join(sentences)
