"""Text to terms for story clustering: tokens, light stemming, capitalised-name bigrams, TF-IDF weights.

Plain Python (no model, no download), deterministic across processes, fast enough to run on every article:

* the headline and the first ``max_words`` words of the text are read (the lede says what the story is about;
  the tail of a long article drifts to background and opinion);
* words are lowercased, possessives dropped (``Trump's`` -> ``trump``), stop words and reporting verbs removed
  (``STOP_WORDS``), plurals folded by a light S-stemmer (``caravans`` -> ``caravan``, ``policies`` ->
  ``policy``); numbers of two or more characters are kept (``2,500``, ``13``, ``2016`` help tell events apart);
* two adjacent capitalised words inside a sentence also give a name term, ``donald_trump``, ``supreme_court``,
  ``kim_jong``, because names pin an event far better than their parts;
* Chinese, Japanese and Korean text, written without spaces between words (or, in Korean, with particles
  glued to them), gives overlapping character bigrams of each run of Han, kana or Hangul characters
  (``日本政府`` -> ``日本``, ``本政``, ``政府``), the standard way to index these scripts without a dictionary
  (Lucene's CJK bigram analyser); numbers and Latin names inside such text are terms as everywhere;
* headline terms count ``title_weight`` times (editors put the event in the headline);
* a term weighs ``(1 + log tf) * idf`` with ``idf = log((N + 1) / (df + 1)) + 1`` from document frequencies
  the caller supplies (the clusterer keeps them in the database, per language), and the vector is
  L2-normalised.

Languages. An article's language (``language_of``: the primary subtag of its code; none or an unusable one
counts as ``DEFAULT_LANGUAGE``) adds that language's function words to the stop words (``STOP_WORDS_BY_LANGUAGE``,
for the languages of Western Europe whose words are separated by spaces) and, in French and Italian, drops
elided articles and pronouns (``l'accord`` -> ``accord``). The English list applies to every language. A
per-language IDF alone cannot do this while a language has few documents: with two French articles in the store
every French word has about the same IDF, and two unrelated French articles would be close on ``les``, ``des``
and ``pour``. ``carry_terms`` gives the terms that carry across languages (names in Latin script and numbers):
the clusterer compares articles and stories of different languages on those alone.
"""
from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Mapping

#: Function words, reporting verbs and calendar words: frequent in every story, so they say nothing about which.
STOP_WORDS = frozenset("""
a about above across after afterwards again against ago all almost alone along already also although always am
among amongst an and another any anyhow anyone anything anyway anywhere are aren around as at away be became
because become becomes becoming been before beforehand behind being below beside besides between beyond both
but by can cannot cant could couldn did didn do does doesn doing don done down during each either else
elsewhere enough etc even ever every everyone everything everywhere except few for from further get gets getting
go goes going gone got had hadn has hasn have haven having he hence her here hers herself him himself his how
however i if in inc indeed into is isn it its itself just least less like ll ltd many may maybe me meanwhile
might mine more moreover most mostly much must my myself namely neither never nevertheless no nobody none noone
nor not nothing now nowhere of off often on once one only onto or other others otherwise our ours ourselves out
over own per perhaps please quite rather re really s same shall she should since so some somehow someone
something sometime sometimes somewhere still such t than that the their theirs them themselves then thence
there thereafter thereby therefore therein thereupon these they this those though through throughout thru thus
to together too toward towards under unless until up upon very via was wasn we were weren what whatever when
whence whenever where whereas whereby wherein whereupon wherever whether which while who whoever whole whom
whose why will with within without won would wouldn yet you your yours yourself yourselves ve d m
said say says saying told tell tells according asked added adding noted including include includes included
mr mrs ms dr new news year years day days week weeks month months time times today yesterday tomorrow
monday tuesday wednesday thursday friday saturday sunday
january february march april june july august september october november december
jan feb mar apr jun jul aug sep sept oct nov dec
make makes making made want wants wanted think thinks know knows come comes came take takes took
way ways thing things lot lots people percent https http www com
""".split())

#: The language of articles that do not say theirs. newstilt read English news only before it recorded languages
#: (its bundled feeds and ratings are of US outlets), so the rows without one are English; counting them as
#: English keeps an upgraded store's weights exactly as they were.
DEFAULT_LANGUAGE = "en"

#: Function words (and a few reporting verbs) of other languages, dropped from articles in that language. The
#: most frequent words of each: the long tail is left to the per-language IDF.
STOP_WORDS_BY_LANGUAGE = {lang: frozenset(words.split()) for lang, words in {
    "fr": """
a ai aie ait as au aux avait avaient avec avons ayant c ca ce ceci cela celle celles celui cependant ces cet
cette ceux chaque chez ci comme comment contre d dans de depuis des deux devant doit donc dont du elle elles en
encore entre est et eu fait faire fois il ils j je jusqu l la le les leur leurs lors lorsqu lui m ma mais me
meme memes même mêmes mes moi moins mon n ne ni non nos notre nous on ont ou où par parce pas pendant peu peut
plus pour pourquoi qu quand que quel quelle quelles quels qui s sa sans se selon ses seulement si sien son sont
sous sur t ta tandis te tes toi ton tous tout toute toutes tres très tu un une unes uns vers via voici voilà vos
votre vous y à ça été être avoir aussi ainsi alors après avant bien déjà dès encore était étaient sera seront
serait ont-ils dit déclaré indiqué affirmé ajouté selon hier jeudi lundi mardi mercredi vendredi samedi dimanche
janvier février mars avril mai juin juillet août septembre octobre novembre décembre an ans année jour jours
""",
    "es": """
a al algo algunas algunos ante antes como con contra cual cuales cuando de del desde donde durante e el ella
ellas ellos en entre era eran es esa esas ese eso esos esta estaba estaban estado estan están estas este esto
estos fue fueron ha habia había han hasta hay la las le les lo los mas más me mi mientras muy nada ni no nos
nosotros o otra otras otro otros para pero poco por porque que qué quien quienes se sea ser si sí sido sin sobre
son su sus también tanto te tenia tenía tiene tienen todo todos tras tu un una unas uno unos usted y ya yo
dijo afirmó aseguró señaló explicó añadió según ayer hoy lunes martes miércoles jueves viernes sábado domingo
enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre año años día días
""",
    "pt": """
a ao aos as até com como da das de dela dele deles depois do dos e ela elas ele eles em entre era essa esse
esta este eu foi foram há isso isto já lhe mais mas me mesmo meu muito na nas nem no nos nós num numa o os ou
para pela pelas pelo pelos por porque quando que quem se sem ser seu seus sua suas são só também te tem têm um
uma umas uns à às é está estão foi disse afirmou segundo ontem hoje ano anos dia dias
""",
    "it": """
a abbiamo ad agli ai al alla alle allo anche ancora avere aveva c che chi ci come con contro cui d da dai dal
dalla dalle degli dei del della delle dello di dopo dove e ed era essere fa fino gli ha hanno ho i il in io l
la le lei lo loro lui ma mentre mi molto ne negli nei nel nella nelle nello noi non nostro o ogni per perché più
poi quale quando quella quelle quello questa queste questo qui se sei si sia sono su sua sue sui sul sulla suo
suoi tra tutti tutto un una uno è stato stata stati detto secondo ieri oggi anno anni giorno giorni
""",
    "de": """
aber alle allem allen aller alles als also am an andere anderen auch auf aus bei beim bin bis bisher da damit
dann das dass dem den denen der deren des dessen die dies diese diesem diesen dieser dieses doch dort du durch
ein eine einem einen einer eines er es etwa für gegen gewesen habe haben hat hatte hatten hier ich ihm ihn ihr
ihre ihrem ihren ihrer im in ist jedoch jetzt kann kein keine können man mehr mit muss nach nicht noch nun nur
ob oder ohne schon sehr sei seien sein seine seinem seinen seiner seit sich sie sind so soll sollen sollte
sowie um und uns unter vom von vor war waren was weil weiter wenn werden wie wieder will wir wird wurde wurden
zu zum zur zwei über sagte erklärte heute gestern jahr jahre jahren tag tage
""",
    "nl": """
aan al als bij dan dat de deze die dit door een en er geen had heb hebben heeft het hij hoe hun ik in is je
kan maar met naar niet nog nu of om ons ook op over te tegen toe tot u uit van veel voor was waren wat we wel
werd wie wij worden wordt zal ze zei zich zij zijn zo zou jaar dag
""",
}.items()}
_ELISION_LANGUAGES = frozenset({"fr", "it"})
#: Elided words glued to the next by an apostrophe (French ``l'``, ``d'``, ``qu'``; Italian ``dell'``).
_ELISIONS = frozenset("c d j l m n s t qu jusqu lorsqu puisqu quoiqu dall dell nell sull all un quell"
                      .split())
_LANGUAGE_CODE = re.compile(r"[a-z]{2,3}")

#: Longer "words" are URLs, hashes or glued markup, never a story's subject.
MAX_TERM_LENGTH = 40

_SPLIT = re.compile(r"([^\W_]+(?:['’][^\W_]+)*)")
_SENTENCE_BREAK = re.compile(r"[.,!?;:\"“”()\[\]|—–]")
_SENTENCE_OPENING = re.compile(r"[.!?:;\"“”«»¿¡]")
_DIGITS = re.compile(r"\d")
#: Han ideographs, hiragana, katakana and Hangul syllables: scripts indexed by character bigrams.
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]+")


def stem(word: str) -> str:
    """A light S-stemmer (Harman 1991): fold plurals only, so terms stay readable in explanations."""
    if len(word) <= 3 or not word.endswith("s") or word.endswith(("ss", "us", "is")):
        return word
    if word.endswith("ies") and not word.endswith(("eies", "aies")):
        return word[:-3] + "y"
    if word.endswith("es") and not word.endswith(("aes", "ees", "oes")) and word[-3] in "sxz":
        return word[:-2]
    return word[:-1]


def _normal_uncached(token: str) -> str | None:
    word = token.lower().replace("’", "'")
    if word.endswith("'s"):
        word = word[:-2]
    word = word.replace("'", "")
    if len(word) < 2 or len(word) > MAX_TERM_LENGTH or word in STOP_WORDS:
        return None
    if _DIGITS.search(word):
        return word
    return stem(word)


_NORMAL_CACHE: dict[str, str | None] = {}
_NORMAL_CACHE_SIZE = 200_000


def _normal(token: str) -> str | None:
    """A word's term, or None for stop words, single characters and possessive leftovers (memoised)."""
    try:
        return _NORMAL_CACHE[token]
    except KeyError:
        pass
    if len(_NORMAL_CACHE) >= _NORMAL_CACHE_SIZE:
        _NORMAL_CACHE.clear()
    term = _NORMAL_CACHE[token] = _normal_uncached(token)
    return term


def language_of(code: str | None) -> str:
    """The language an article's code names for clustering: its primary subtag (``fr-CA`` -> ``fr``), or
    ``DEFAULT_LANGUAGE`` when there is none or it is not an ISO 639 code (``und``, ``mul`` included)."""
    if code:
        primary = code.strip().lower().replace("_", "-").split("-", 1)[0]
        if _LANGUAGE_CODE.fullmatch(primary) and primary not in ("und", "mul", "zxx", "mis"):
            return primary
    return DEFAULT_LANGUAGE


def _words(text: str, max_words: int | None, language: str | None) -> tuple[list[str], list[str]]:
    """The words of ``text`` (its first ``max_words``) and the gap before each, without the function words of
    ``language`` and, in French and Italian, without elided articles (``l'``, ``qu'``)."""
    if max_words is not None:
        text = text[:max_words * 16]  # generous: words average ~6 characters with their spacing
    parts = _SPLIT.split(text)  # [gap, word, gap, word, ..., gap]
    words = parts[1::2]
    gaps = parts[0::2]
    if max_words is not None:
        words = words[:max_words]
    extra = STOP_WORDS_BY_LANGUAGE.get(language) if language else None
    if extra is None:
        return words, gaps
    elide = language in _ELISION_LANGUAGES
    kept_words: list[str] = []
    kept_gaps: list[str] = []
    dropped = ""
    for token, gap in zip(words, gaps, strict=False):
        if elide and ("'" in token or "’" in token):
            head, _, tail = token.replace("’", "'").partition("'")
            if tail and head.lower() in _ELISIONS:
                token = tail
        if token.lower() in extra:
            dropped += gap + "|"  # a dropped word breaks a name: "Banque de France" is no "banque_france"
            continue
        kept_words.append(token)
        kept_gaps.append(dropped + gap)
        dropped = ""
    return kept_words, kept_gaps


def terms(text: str, *, max_words: int | None = None, language: str | None = None) -> list[str]:
    """The terms of ``text`` (its first ``max_words`` words), names as ``first_second`` bigrams; ``language``
    (a code from ``language_of``) adds its function words to the stop words."""
    words, gaps = _words(text, max_words, language)
    out: list[str] = []
    append = out.append
    prev_cap: str | None = None  # the previous word's term when it was capitalised
    for i, token in enumerate(words):
        if _CJK.search(token):
            out.extend(_cjk_terms(token))
            prev_cap = None
            continue
        term = _normal(token)
        if term is None:
            prev_cap = None
            continue
        append(term)
        if token[0].isupper() and not term.isdigit():
            if prev_cap is not None:
                gap = gaps[i]
                if "\n" not in gap and not _SENTENCE_BREAK.search(gap):
                    append(f"{prev_cap}_{term}")
            prev_cap = term
        else:
            prev_cap = None
    return out


def _latin(token: str) -> bool:
    return all("LATIN" in unicodedata.name(c, "") for c in token if c.isalpha())


def carry_terms(text: str, *, max_words: int | None = None, language: str | None = None) -> frozenset[str]:
    """The terms of ``text`` that carry across languages: names and numbers.

    A name is a capitalised word in Latin script (``Kishida``, ``Beijing``, ``APEC``) that is not a function
    word; a capitalised word opening a sentence counts only when the text also capitalises it inside one. Two
    adjacent names give their bigram too (``xi_jinping``; not ``japanese_prime`` from "Japanese Prime Minister"
    opening a sentence). A number is a term of two or more digits (``2023``, ``90``). The headline is not read:
    headlines capitalise every word in English. Terms are those of ``terms`` (lower-cased), so they can be looked
    up in another language's vectors.
    """
    words, gaps = _words(text, max_words, language)
    inside: set[str] = set()  # capitalised inside a sentence
    pairs: set[tuple[str, str]] = set()
    out: set[str] = set()
    prev: str | None = None  # the previous word's term when it was a name
    for i, token in enumerate(words):
        term = None if _CJK.search(token) else _normal(token)
        if term is None:
            prev = None
            continue
        if sum(c.isdigit() for c in term) >= 2:
            out.add(term)
            prev = None
            continue
        if not (token[0].isupper() and _latin(token)):
            prev = None
            continue
        gap = gaps[i]
        starts = i == 0 or "\n" in gap or bool(_SENTENCE_OPENING.search(gap))
        if not starts:
            inside.add(term)
        if prev is not None and not starts and not _SENTENCE_BREAK.search(gap):
            pairs.add((prev, term))
        prev = term
    out |= inside  # a word opening a sentence is a name only if the text also capitalises it inside one
    out.update(f"{first}_{second}" for first, second in pairs if first in inside)
    return frozenset(out)


def _cjk_terms(token: str) -> list[str]:
    """Character bigrams of the CJK runs of a token, and the terms of what lies between them (numbers, Latin
    words); a lone CJK character between others gives no term (one character says little)."""
    out: list[str] = []
    position = 0
    for run in _CJK.finditer(token):
        rest = token[position:run.start()]
        if rest:
            term = _normal(rest)
            if term is not None:
                out.append(term)
        chars = run.group()
        out.extend(chars[i:i + 2] for i in range(len(chars) - 1))
        position = run.end()
    rest = token[position:]
    if rest:
        term = _normal(rest)
        if term is not None:
            out.append(term)
    return out


def term_counts(title: str, text: str, *, title_weight: float = 3.0, max_words: int = 400,
                language: str | None = None) -> dict[str, float]:
    """Weighted term frequencies of an article: headline terms count ``title_weight`` times."""
    counts: dict[str, float] = dict(Counter(terms(text or "", max_words=max_words, language=language)))
    for term, n in Counter(terms(title or "", language=language)).items():
        counts[term] = counts.get(term, 0.0) + title_weight * n
    return counts


def idf(df: int, n_docs: int) -> float:
    """Smoothed IDF; a df above the document count (counts of different origins: a store upgraded from before
    per-language counts) is taken as the count, so the IDF never falls below 1."""
    return math.log((n_docs + 1) / (min(df, n_docs) + 1)) + 1.0


def weigh(counts: Mapping[str, float], df: Mapping[str, int], n_docs: int, *,
          top: int | None = None) -> dict[str, float]:
    """TF-IDF weights, L2-normalised, keeping the ``top`` heaviest terms (all when None)."""
    weights = {t: (1.0 + math.log(c)) * idf(df.get(t, 0), n_docs) for t, c in counts.items() if c > 0}
    if top is not None:
        weights = top_terms(weights, top)
    return normalise(weights)


def normalise(vector: Mapping[str, float]) -> dict[str, float]:
    norm = math.sqrt(sum(w * w for w in vector.values()))
    return {t: w / norm for t, w in vector.items()} if norm else dict(vector)


def cosine(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    """Cosine of two sparse vectors (neither needs to be normalised)."""
    if len(a) > len(b):
        a, b = b, a
    dot = sum(w * b[t] for t, w in a.items() if t in b)
    if not dot:
        return 0.0
    na = math.sqrt(sum(w * w for w in a.values()))
    nb = math.sqrt(sum(w * w for w in b.values()))
    return dot / (na * nb)


def top_terms(vector: Mapping[str, float], k: int) -> dict[str, float]:
    if len(vector) <= k:
        return dict(vector)
    return dict(sorted(vector.items(), key=lambda kv: (-kv[1], kv[0]))[:k])


def shared_terms(a: Mapping[str, float], b: Mapping[str, float], k: int = 8) -> tuple[str, ...]:
    """The ``k`` terms contributing most to the cosine of ``a`` and ``b``, heaviest first."""
    common = sorted(((a[t] * b[t], t) for t in a.keys() & b.keys()), key=lambda x: (-x[0], x[1]))
    return tuple(t for _, t in common[:k])
