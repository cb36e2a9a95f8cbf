"""Framing by side: the words each side's headlines and ledes use for a story that the other side's do not.

Computed within one story, when it has both left and right coverage: the headline and lede (first two
sentences) of each article that counts are cut into words and two-word phrases (stop words, numbers and the
outlet's own name left out); a phrase is a side's framing when at least one of that side's articles uses it
and none of the other side's does. Phrases used by more of the side's articles come first, then rarer ones
(by their document frequency in the whole store). Each phrase comes with the articles that use it.
"""
from __future__ import annotations

import re
from collections import defaultdict

import sqlalchemy as sa

from . import textvec
from .coverage import group_of, outlet_summary
from .storage import articles, cluster_df
from .summary import split_sentences, strip_dateline

#: Phrases shown per side.
MAX_TERMS = 8
#: Characters of each article's text read for its lede.
LEDE_CHARS = 1200

_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
_BREAK = re.compile(r"[.,;:!?()\[\]\"“”‘|—–\n]+|\s-\s|'\s|\s'")


def _words(text: str) -> list[str]:
    """Lowercased words, possessives dropped; stop words become None (they break a phrase)."""
    out = []
    for token in _WORD.findall(text):
        word = token.lower().replace("’", "'")
        if word.endswith("'s"):
            word = word[:-2]
        out.append(None if len(word) < 3 or word in textvec.STOP_WORDS else word)
    return out


def phrases(text: str, exclude: frozenset[str] = frozenset()) -> dict[str, str]:
    """{key: shown form} of the words and two-word phrases of ``text``; keys fold plurals (``textvec.stem``)."""
    out: dict[str, str] = {}
    for chunk in _BREAK.split(text):  # a phrase never runs across punctuation
        words = [w if w is None or w not in exclude else None for w in _words(chunk)]
        for i, word in enumerate(words):
            if word is None:
                continue
            out.setdefault(textvec.stem(word), word)
            following = words[i + 1] if i + 1 < len(words) else None
            if following is not None:
                out.setdefault(f"{textvec.stem(word)} {textvec.stem(following)}", f"{word} {following}")
    return out


def lede(text: str) -> str:
    sentences = split_sentences(text[:LEDE_CHARS])
    if sentences:
        sentences[0] = strip_dateline(sentences[0])
    return " ".join(s.text for s in sentences[:2])


def framing(conn, index, members) -> dict:
    """``{"available", "left": [...], "right": [...]}``; each item ``{"term", "articles": [{id, url, title,
    outlet}]}``. ``available`` is False (and the lists empty) unless the story has left and right coverage."""
    sides = {"left": [], "right": []}
    for row in members.originals:
        group = group_of(outlet_summary(index, row.outlet))
        if group in sides:
            sides[group].append(row)
    result = {"available": bool(sides["left"] and sides["right"]), "left": [], "right": []}
    if not result["available"]:
        return result
    ids = [row.id for side in sides.values() for row in side]
    ledes = dict(conn.execute(sa.select(articles.c.id, sa.func.substr(articles.c.text, 1, LEDE_CHARS))
                              .where(articles.c.id.in_(ids))).all())
    used: dict[str, dict[str, list]] = {"left": defaultdict(list), "right": defaultdict(list)}
    shown: dict[str, str] = {}
    for side, rows in sides.items():
        for row in rows:
            outlet = index.outlet_for_key(row.outlet) if row.outlet else None
            name_words = frozenset(w for w in _words(outlet.name if outlet else (row.outlet or "")) if w)
            name_words |= frozenset(p for p in re.split(r"[.\-/]", row.outlet or "") if p)
            found = phrases(f"{row.title}\n{lede(ledes.get(row.id) or '')}", name_words)
            for key, form in found.items():
                used[side][key].append(row)
                shown.setdefault(key, form)
    unigrams = {k.split(" ")[0] for side in used.values() for k in side} | {
        k.split(" ")[-1] for side in used.values() for k in side}
    df = dict(conn.execute(sa.select(cluster_df.c.term, cluster_df.c.df)
                           .where(cluster_df.c.language == textvec.DEFAULT_LANGUAGE,
                                  cluster_df.c.term.in_(sorted(unigrams)))).all()) if unigrams else {}
    for side, other in (("left", "right"), ("right", "left")):
        own = [(key, rows) for key, rows in used[side].items() if key not in used[other]]

        def rank(item):
            key, rows = item
            rarity = sum(df.get(part, 0) for part in key.split(" ")) / len(key.split(" "))
            return (-len({r.outlet for r in rows}), -len(rows), -(" " in key), rarity, key)

        chosen, covered = [], set()
        for key, rows in sorted(own, key=rank):
            parts = set(key.split(" "))
            if " " not in key and key in covered:
                continue  # a word already shown inside a chosen phrase
            chosen.append({"term": shown[key], "articles": [
                {"id": r.id, "url": r.url, "title": r.title, "outlet": outlet_summary(index, r.outlet)["name"]
                 if r.outlet else None} for r in rows]})
            covered |= parts
            if len(chosen) == MAX_TERMS:
                break
        result[side] = chosen
    return result
