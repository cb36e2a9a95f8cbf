"""The MBFC and AllSides importers: parsing, mapping, idempotence, and refusing malformed files whole."""
from __future__ import annotations

import json

import pytest

from newstilt.errors import RatingsImportError
from newstilt.importers import import_file, parse_allsides, parse_mbfc
from newstilt.ratings import Ratings

from .conftest import FIXTURE_OUTLETS, RESOURCES

MBFC = RESOURCES / "ratings" / "mbfc-fixture.json"
ALLSIDES = RESOURCES / "ratings" / "allsides-fixture.csv"


def test_mbfc_maps_onto_the_seven_steps():
    parsed = parse_mbfc(MBFC.read_bytes())
    by_key = {r["key"]: r for r in parsed.ratings}
    assert by_key["bbc.com"]["bias_score"] == -1.0 and by_key["bbc.com"]["factuality"] == "mostly-factual"
    assert by_key["nytimes.com"]["bias_score"] == -2.0
    # a questionable source keeps its factuality and its own label, but has no bias score
    assert by_key["foxnews.com"]["bias_score"] is None
    assert by_key["foxnews.com"]["bias_raw"] == "fake-news" and by_key["foxnews.com"]["factuality"] == "low"
    assert by_key["theonion.com"]["factuality"] is None
    assert by_key["al.com/huntsville"]["bias_score"] == 1.0
    assert parsed.aliases == {"bbc.co.uk": "bbc.com", "politi.co": "politico.com"}


def test_allsides_maps_and_skips_rows_without_a_site():
    parsed = parse_allsides(ALLSIDES.read_bytes())
    by_key = {r["key"]: r for r in parsed.ratings}
    assert by_key["reuters.com"]["bias_score"] == 0.0
    assert by_key["nytimes.com"]["bias_score"] == -1.0
    assert by_key["twitter.com/conversationus"]["name"] == '"The Conversation" Contributor'
    assert by_key["example.substack.com"]["bias_score"] == 2.0
    assert by_key["mixedbag.example"]["bias_score"] is None
    assert len(parsed.skipped) == 1 and "No Link Person" in parsed.skipped[0]


def test_import_twice_changes_nothing(store, tmp_path):
    first = import_file(store, MBFC, "mbfc")
    assert first["written"] and first["added"] == 6
    fingerprint = store.ratings_fingerprint()
    second = import_file(store, MBFC, "mbfc")
    assert not second["written"] and second["unchanged"] == 6
    assert store.ratings_fingerprint() == fingerprint


def test_reimport_replaces_what_the_rater_said(store, tmp_path):
    import_file(store, MBFC, "mbfc")
    doc = json.loads(MBFC.read_text())
    doc["sources"] = [s for s in doc["sources"] if s["domain"] != "politico.com"]
    doc["sources"][0]["reporting"] = "high"
    smaller = tmp_path / "smaller.json"
    smaller.write_text(json.dumps(doc))
    result = import_file(store, smaller, "mbfc")
    assert (result["added"], result["changed"], result["removed"]) == (0, 1, 1)


def test_combined_rating_is_the_mean_of_raters(store):
    import_file(store, MBFC, "mbfc")
    import_file(store, ALLSIDES, "allsides")
    index = Ratings(store, FIXTURE_OUTLETS.read_text()).index()
    nyt = index.match("https://www.nytimes.com/x").outlet
    # bundled lean-left (-1), MBFC left (-2), AllSides lean left (-1): mean -1.33 -> lean-left
    assert [r.rater for r in nyt.ratings] == ["newstilt", "allsides", "mbfc"]
    assert nyt.bias_score == -1.33 and nyt.bias_label == "lean-left"
    assert nyt.factuality == "high"
    bbc = index.match("https://www.bbc.co.uk/news").outlet
    # bundled -1 and MBFC -1; factuality high (1) and mostly-factual (2): mean 1.5 rounds to mostly-factual
    assert bbc.bias_label == "lean-left" and bbc.factuality == "mostly-factual"
    fox = index.match("https://www.foxnews.com/x").outlet
    assert fox.bias_score == 2.0  # MBFC's questionable rating carries no bias, so only the bundled one counts
    assert fox.factuality == "low"  # mixed (3) and low (4): 3.5 rounds away from zero
    # an outlet only an imported rater knows, reached through that rater's alias
    politico = index.match("https://politi.co/abc").outlet
    assert politico.domain == "politico.com" and politico.bias_label == "lean-left"
    assert index.match("https://al.com/huntsville/x").outlet.name == "Huntsville Times"
    # the rater's exact key on a platform subdomain matches; the platform still does not inherit
    assert index.match("https://example.substack.com/p/x").outlet.bias_label == "right"
    with pytest.raises(LookupError):
        index.match("https://other.substack.com/p/x")


@pytest.mark.parametrize(("content", "message"), [
    (b"", "not valid JSON"),
    (b"\x00\x01\x02binary", "binary"),
    (b"[1, 2, 3]", "'sources' list"),
    (b'{"sources": []}', "rates no sources"),
    (b'{"sources": [{"domain": "x.com", "name": "X"}]}', "no 'bias'"),
    (b'{"biases": [{"bias": "left"}], "sources": [{"domain": "x.com", "name": "X", "bias": "weird"}]}',
     "not one the file declares"),
    (b'{"sources": [{"domain": "not a domain", "name": "X", "bias": "left"}]}', "domain"),
    (b'{"aliases": [], "sources": [{"domain": "x.com", "name": "X", "bias": "left"}]}', "aliases"),
])
def test_malformed_mbfc_is_rejected_whole(store, tmp_path, content, message):
    import_file(store, MBFC, "mbfc")
    before = store.ratings_fingerprint()
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(RatingsImportError, match=message):
        import_file(store, path, "mbfc")
    assert store.ratings_fingerprint() == before


@pytest.mark.parametrize(("content", "message"), [
    (b"name,link\nx,y\n", "missing column"),
    (b"news_source,news_link,bias_rating\nX,https://x.com,Sideways\n", "unknown bias_rating"),
    (b"news_source,news_link,bias_rating\nX,ftp://x.com,Left\n", "news_link"),
    (b"news_source,news_link,bias_rating\nX,https://x.com,Left,extra,fields\n", "more fields"),
    (b"news_source,news_link,bias_rating\n\"X,https://x.com,Left\n", "CSV"),
    (b"\xff\xfe\x00bad", "binary"),
])
def test_malformed_allsides_is_rejected_whole(store, tmp_path, content, message):
    import_file(store, ALLSIDES, "allsides")
    before = store.ratings_fingerprint()
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(RatingsImportError, match=message):
        import_file(store, path, "allsides")
    assert store.ratings_fingerprint() == before


def test_missing_file_is_a_clear_error(store, tmp_path):
    with pytest.raises(RatingsImportError, match="cannot read"):
        import_file(store, tmp_path / "nope.json", "mbfc")
