"""Loading records and removing what identifies the outlet rather than the argument."""
from __future__ import annotations

import gzip
import json
import logging

import pytest

from newstilt.classifier.data import clean_records, compose, english_ratio, kept_segments, neutralise, read_jsonl


def test_read_jsonl_plain_and_gzip_skipping_broken_lines(tmp_path, caplog):
    lines = [json.dumps({"title": "a", "text": "b", "label": "left", "domain": "x.example"}), "{broken", "[1]", ""]
    plain = tmp_path / "r.jsonl"
    plain.write_text("\n".join(lines), encoding="utf-8")
    packed = tmp_path / "r.jsonl.gz"
    with gzip.open(packed, "wt", encoding="utf-8") as handle:
        handle.write("\n".join(lines))
    with caplog.at_level(logging.WARNING, logger="classifier.data"):
        assert list(read_jsonl(plain)) == list(read_jsonl(packed)) == [json.loads(lines[0])]
    assert "not JSON" in caplog.text


def test_clean_records_normalises_and_skips_unusable(caplog):
    records = [
        {"title": "T", "text": "x", "label": " Left ", "domain": "A.example", "extra": 1},
        {"title": "T", "text": "x", "label": "far-left", "domain": "a.example"},
        {"title": "T", "text": "x", "label": "left", "domain": ""},
        {"title": None, "text": "  ", "label": "left", "domain": "a.example"},
    ]
    with caplog.at_level(logging.WARNING, logger="classifier.data"):
        assert clean_records(records) == [{"title": "T", "text": "x", "label": "left", "domain": "a.example"}]
    assert "skipped 3 record(s)" in caplog.text


@pytest.mark.parametrize(
    "text,gone,kept",
    [
        ("WASHINGTON (Reuters) - The Senate voted on Friday.", ["Reuters", "WASHINGTON"], ["The Senate voted"]),
        ("Washington (CNN) - The Senate voted.", ["CNN", "Washington"], ["The Senate voted"]),
        ("NEW YORK (AP) — Officials said the plan works.", ["AP", "NEW YORK"], ["Officials said"]),
        ("WASHINGTON—President Trump chose a nominee.", ["WASHINGTON"], ["President Trump chose"]),
        ("He told Fox News' Bret Baier and CNN's Jake Tapper.", ["Fox", "CNN"], ["Bret Baier", "Jake Tapper"]),
        ("The report said.\nThe Associated Press contributed to this report.", ["Associated", "contributed"],
         ["report said"]),
        ("The vote failed. (Reporting by Jane Roe; Editing by John Doe)", ["Jane", "Editing"], ["vote failed"]),
        ("By JANE DOE and JOHN ROE, Associated Press\nThe vote failed.", ["JANE", "Associated"], ["vote failed"]),
        ("Sign up for our newsletter and get the app\nThe vote failed.", ["newsletter"], ["vote failed"]),
        ("Copyright © 2019 The Washington Times, LLC.\nThe vote failed.", ["Copyright", "Times"], ["vote failed"]),
        ("Enlarge this image toggle caption Alex Wong/Getty Images\nThe vote failed.", ["Getty", "Wong"], ["failed"]),
        ("The full ruling, at https://www.example.com/a?b=1 and on courts.example.org, runs long.",
         ["https", "example"], ["The full ruling", "runs long"]),
        ("The senator, known online as @handle, spoke.", ["handle"], ["The senator, known online as", "spoke"]),
        ("The vote failed.\nQuestions? Write to jane.doe@example.com", ["jane", "Questions"], ["vote failed"]),
        ("ADVERTISEMENT\nThe vote failed.\nStory Continued Below", ["ADVERTISEMENT", "Continued"], ["vote failed"]),
        ("The vote failed.\n— Jane Doe is a senior columnist for the paper.", ["columnist"], ["vote failed"]),
        ("Vice President Pence addressed the Federalist Society on the Hill.", [],
         ["Vice President", "Federalist Society", "the Hill"]),
        ("Senate Majority Leader Mitch McConnell Addison (Mitch) Mitchell McConnellGOP senators balk at trial MORE "
         "said no.",
         ["Addison", "balk"], ["Mitch McConnell", "said no"]),
    ],
)
def test_neutralise_removes_outlet_tells_and_keeps_the_story(text, gone, kept):
    result = neutralise("", text)
    for word in gone:
        assert word not in result, (word, result)
    for phrase in kept:
        assert phrase in result, (phrase, result)


def test_neutralise_is_made_of_original_pieces():
    title, text = "CNN: Trump wins", "WASHINGTON (AP) — Trump won.\nADVERTISEMENT\nVoters cheered, Fox News said."
    document, offset, _ = compose(title, text)
    segments = kept_segments(document, offset)
    assert segments == sorted(segments)
    assert all(0 <= start < end <= len(document) for start, end in segments)
    assert neutralise(title, text) == "\n".join(document[s:e] for s, e in segments)


def test_line_rules_leave_the_title_alone():
    # A title that looks like a byline or a bare name is still read.
    assert "Donald Trump" in neutralise("Donald Trump", "By Jane Doe\nHe spoke.")


def test_english_ratio_separates_english_from_other_languages():
    english, words = english_ratio("The senator said that the bill would be voted on by the end of the month.")
    assert english > 0.3 and words == 16
    assert english_ratio("Der Bundestag hat das Gesetz am Freitag mit großer Mehrheit beschlossen.")[0] < 0.10
    assert english_ratio("") == (0.0, 0)
