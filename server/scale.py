"""The rating scales newstilt uses everywhere: seven bias steps and six factuality levels.

Bias is a number from -3 (far left) to +3 (far right). Raters publish coarser scales; each importer maps its
labels onto this one, and an outlet's displayed bias is the mean of its raters' scores, rounded to the nearest
step (halves away from zero), as Ground News combines AllSides, Ad Fontes Media and Media Bias/Fact Check.
"""
from __future__ import annotations

import math

BIAS_LABELS = ("far-left", "left", "lean-left", "center", "lean-right", "right", "far-right")
BIAS_SCORES = {label: step - 3 for step, label in enumerate(BIAS_LABELS)}

#: Best first. ``FACTUALITY_LEVELS.index(x)`` is the ordinal used for averaging.
FACTUALITY_LEVELS = ("very-high", "high", "mostly-factual", "mixed", "low", "very-low")

OWNERSHIP_CATEGORIES = (
    "independent",
    "corporation",
    "public-broadcaster",
    "state-controlled",
    "non-profit",
    "private-equity",
    "family-owned",
    "individual",
    "political-organisation",
    "cooperative",
)

SIDES = ("left", "center", "right")

#: Why a source is questionable (the badge's warning, with these reasons). Any flag makes it questionable.
QUESTIONABLE_FLAGS = ("conspiracy", "pseudoscience", "propaganda", "failed-fact-checks", "satire")
#: Flags under which an outlet may have no position on the left-right axis (no bias in the table).
UNPOSITIONED_FLAGS = ("satire", "pseudoscience")


def round_half_away(value: float) -> int:
    """Round to the nearest integer, halves away from zero (so -0.5 -> -1, 0.5 -> 1)."""
    return int(math.copysign(math.floor(abs(value) + 0.5), value))


def bias_label(score: float) -> str:
    """The seven-step label for a (possibly fractional) bias score in -3..+3."""
    step = max(-3, min(3, round_half_away(score)))
    return BIAS_LABELS[step + 3]


def side_of(score: float | None) -> str | None:
    """``left``, ``center`` or ``right`` for a score: the first three steps, the middle one, the last three."""
    if score is None:
        return None
    step = max(-3, min(3, round_half_away(score)))
    return "left" if step < 0 else "right" if step > 0 else "center"


def mean_factuality(levels: list[str]) -> str | None:
    """The mean of several factuality levels on their ordinal scale, rounded to the nearest level."""
    ordinals = [FACTUALITY_LEVELS.index(level) for level in levels if level in FACTUALITY_LEVELS]
    if not ordinals:
        return None
    return FACTUALITY_LEVELS[round_half_away(sum(ordinals) / len(ordinals))]
