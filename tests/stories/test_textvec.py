"""Terms and weights for clustering."""
from __future__ import annotations

import pytest

from newstilt import textvec


def test_terms_lowercase_fold_plurals_drop_stop_words_and_join_names():
    got = textvec.terms("President Donald Trump's caravans met Kim Jong Un in West Palm Beach, Fla. on 13 July. "
                        "The Supreme Court said policies")
    assert got == ["president", "donald", "president_donald", "trump", "donald_trump", "caravan", "met", "kim",
                   "jong", "kim_jong", "un", "jong_un", "west", "palm", "west_palm", "beach", "palm_beach", "fla",
                   "13", "supreme", "court", "supreme_court", "policy"]


def test_names_do_not_cross_sentences_or_lines():
    assert "washington_officials" not in textvec.terms("He flew to Washington. Officials met him.")
    assert "boston_globe" not in textvec.terms("Boston\nGlobe")


@pytest.mark.parametrize("word, stem", [("caravans", "caravan"), ("policies", "policy"), ("taxes", "tax"),
                                        ("bus", "bus"), ("crisis", "crisis"), ("glass", "glass"),
                                        ("tariffs", "tariff"), ("was", "was")])
def test_stem(word, stem):
    assert textvec.stem(word) == stem


def test_max_words_and_title_weight():
    assert textvec.terms("alpha beta gamma delta", max_words=2) == ["alpha", "beta"]
    counts = textvec.term_counts("Gamma", "alpha gamma", title_weight=2.0)
    assert counts == {"alpha": 1, "gamma": 3.0}


def test_weigh_is_normalised_and_prefers_rare_terms():
    vector = textvec.weigh({"common": 1, "rare": 1}, {"common": 90, "rare": 1}, 100)
    assert vector["rare"] > vector["common"]
    assert sum(w * w for w in vector.values()) == pytest.approx(1.0)
    assert list(textvec.weigh({"a": 3, "b": 2, "c": 1}, {}, 10, top=2)) == ["a", "b"]


def test_cosine_and_shared_terms():
    a, b = {"x": 1.0, "y": 1.0}, {"y": 2.0, "z": 1.0}
    assert textvec.cosine(a, b) == pytest.approx(2 / (2 ** 0.5 * 5 ** 0.5))
    assert textvec.cosine(a, {}) == 0.0
    assert textvec.shared_terms(a, b) == ("y",)


def test_chinese_japanese_and_korean_text_gives_character_bigrams():
    """Written without spaces, a Japanese sentence was one 'word' of 30 characters: no term at all."""
    from newstilt.textvec import terms

    japanese = terms("日本政府は2024年に中国と首脳会談を行った")
    assert {"日本", "政府", "中国", "首脳", "会談", "2024"} <= set(japanese)
    assert not any(len(term) > 2 and not term.isdigit() for term in japanese)
    assert {"대통", "통령", "정상", "회담"} <= set(terms("윤석열 대통령은 정상회담을 했다"))
    assert terms("上海 Tesla factory") == ["上海", "tesla", "factory"]
    assert terms("海 Tesla") == ["tesla"]  # a lone character says little


@pytest.mark.parametrize("code, language", [("fr", "fr"), ("fr-CA", "fr"), ("EN_us", "en"), ("pt-BR", "pt"),
                                            (None, "en"), ("", "en"), ("und", "en"), ("x", "en"), ("fil", "fil")])
def test_language_of(code, language):
    assert textvec.language_of(code) == language


def test_an_articles_language_drops_its_function_words_and_elisions():
    text = "Les syndicats de la SNCF ont appelé à la grève. L'accord n'a pas été signé par la Banque de France."
    assert "les" in textvec.terms(text)  # English rules: "les" is a word like any other
    assert textvec.terms(text, language="fr") == [
        "syndicat", "sncf", "appelé", "grève", "accord", "signé", "banque", "france"]  # no "banque_france"
    assert textvec.terms(text, language="en") == textvec.terms(text)


def test_carry_terms_are_names_in_latin_script_and_numbers():
    text = ("Japanese Prime Minister Fumio Kishida met Xi Jinping in San Francisco for 90 minutes in 2023. "
            "Officials said 5 aides attended. Москва and 北京 were not there. Kishida left.")
    assert textvec.carry_terms(text) == {
        "prime", "minister", "prime_minister", "fumio", "minister_fumio", "kishida", "fumio_kishida", "xi",
        "jinping", "xi_jinping", "san", "francisco", "san_francisco", "90", "2023"}
    # "Japanese" and "Officials" open a sentence and are capitalised nowhere else; "Kishida" is, so it counts
    assert "japanese" not in textvec.carry_terms(text) and "official" not in textvec.carry_terms(text)
    spanish = "El presidente de China, Xi Jinping, llegó a Pekín. La cumbre duró 90 minutos."
    assert textvec.carry_terms(spanish, language="es") == {"china", "xi", "jinping", "xi_jinping", "pekín", "90"}
