"""The extractive summary: sentence splitting, attribution, redundancy, several outlets."""
from __future__ import annotations

import pytest

from newstilt.summary import Source, SummaryConfig, split_sentences, strip_dateline, summarize, usable


def texts(text: str) -> list[str]:
    return [s.text for s in split_sentences(text)]


def test_sentences_are_exact_slices_of_the_text():
    text = ("WASHINGTON -- The Senate voted 68-31 on Monday.  Sen. Maria Delgado said it was overdue.\n\n"
            "\"We did it,\" she said. Then the House took it up.")
    for sentence in split_sentences(text):
        assert text[sentence.start:sentence.end] == sentence.text


@pytest.mark.parametrize(("text", "expected"), [
    ("Mr. Smith met Dr. Jones at 3 p.m. on Tuesday. They talked.",
     ["Mr. Smith met Dr. Jones at 3 p.m. on Tuesday.", "They talked."]),
    ("The U.S. Senate passed it. The vote was 68-31.", ["The U.S. Senate passed it.", "The vote was 68-31."]),
    ("Gov. Dana Whitfield and Sen. T. J. Cole spoke on Jan. 5 in St. Louis. No one else did.",
     ["Gov. Dana Whitfield and Sen. T. J. Cole spoke on Jan. 5 in St. Louis.", "No one else did."]),
    ("\"We will win,\" she said. \"Watch us.\" The crowd cheered!", ["\"We will win,\" she said.", "\"Watch us.\"",
                                                                   "The crowd cheered!"]),
    ("Is it over? Nobody knows. Prices rose 2.5 percent.", ["Is it over?", "Nobody knows.",
                                                            "Prices rose 2.5 percent."]),
    ("First line without a stop\nSecond line. Third one.", ["First line without a stop", "Second line.",
                                                            "Third one."]),
    ("He said “the bridge is safe.” Engineers disagreed.", ["He said “the bridge is safe.”", "Engineers disagreed."]),
])
def test_sentence_splitting_knows_abbreviations_quotes_and_lines(text, expected):
    assert texts(text) == expected


@pytest.mark.parametrize(("sentence", "kept"), [
    ("WASHINGTON -- Real estate tycoon Donald Trump said Thursday he had doubts.",
     "Real estate tycoon Donald Trump said Thursday he had doubts."),
    ("NEW YORK (Reuters) - Stocks fell sharply on Monday as oil prices jumped.",
     "Stocks fell sharply on Monday as oil prices jumped."),
    ("LONDON (AP) — The prime minister resigned on Friday after a week of turmoil.",
     "The prime minister resigned on Friday after a week of turmoil."),
    ("Washington (CNN) - The House passed the bill late on Wednesday night.",
     "The House passed the bill late on Wednesday night."),
    ("The president - flanked by aides - signed the order on Friday.",
     "The president - flanked by aides - signed the order on Friday."),
])
def test_datelines_are_cut_to_a_contiguous_span(sentence, kept):
    [parsed] = split_sentences(sentence)
    stripped = strip_dateline(parsed)
    assert stripped.text == kept and sentence[stripped.start:stripped.end] == kept


@pytest.mark.parametrize("sentence", [
    "Click here to sign up for our daily newsletter about the news.",
    "Copyright 2024 The Associated Press. All rights reserved and more.",
    "Follow us on Twitter for the latest updates on this developing story.",
    "Reporting by Jane Doe; Editing by John Smith and other people today.",
    "The Associated Press contributed to this report from the capital city.",
    "Read more: why the senate vote matters for the rest of the country.",
    "By Jane Doe and John Smith, Staff Writers of the Northfield Ledger.",
    "Too short to say much.",
    "the sentence starts with a lowercase letter and is a fragment of another.",
    "A sentence that never ends because the extractor cut it off in the middle",
    "He said \"we will go on and on and never stop until the end of the year.",
    "Photo: Firefighters at the warehouse on Sunday morning (AP Photo/Ted Warren).",
])
def test_boilerplate_and_fragments_are_not_usable(sentence):
    assert not usable(sentence)


def test_an_ordinary_news_sentence_is_usable():
    assert usable("The Senate on Monday passed the Railway Safety Act by a vote of 68 to 31.")


def _source(i, outlet, title, text):
    return Source(article_id=i, url=f"https://{outlet}/a{i}", outlet=outlet, title=title, text=text)


BRIDGE = [
    _source(1, "ledger.example", "Cargo ship strikes Portsmouth bridge, six missing",
            "PORTSMOUTH, N.H. -- A cargo ship named Marlow Star struck the Elm Street bridge in Portsmouth early "
            "Tuesday, collapsing the main span into the Piscataqua River. Governor Dana Whitfield said six "
            "construction workers were missing and Coast Guard divers were searching the water near the pier.\n\n"
            "The ship had lost power minutes before the crash, according to a pilot's radio call. Click here to "
            "sign up for our newsletter.\n\nThe bridge carried 40,000 vehicles a day and had been rated in fair "
            "condition at its last inspection in 2022."),
    _source(2, "courier.example", "Portsmouth bridge collapses after ship loses power",
            "The Elm Street bridge in Portsmouth collapsed Tuesday after the cargo ship Marlow Star lost power and "
            "struck a pier, Governor Dana Whitfield said. Six construction workers are missing in the Piscataqua "
            "River as Coast Guard divers search the wreckage.\n\nInvestigators from the National Transportation "
            "Safety Board arrived in the afternoon and said they would examine the ship's engines and its data "
            "recorder.\n\nTraffic was diverted to the Interstate 95 crossing, where delays reached two hours."),
    _source(3, "dispatch.example", "Six missing as ship topples Portsmouth bridge",
            "Six workers were missing after a container ship, the Marlow Star, hit the Elm Street bridge in "
            "Portsmouth on Tuesday and the span fell into the Piscataqua River. Local fishermen joined the "
            "search in their own boats before dawn, and a shelter for the workers' families opened at the high "
            "school.\n\nThe ship's owner, Harbor Line Shipping, said it was cooperating with investigators."),
]


def test_a_summary_is_attributed_verbatim_and_draws_on_several_outlets():
    bullets = summarize(BRIDGE)
    assert 3 <= len(bullets) <= 5
    by_id = {s.article_id: s for s in BRIDGE}
    for bullet in bullets:
        source = by_id[bullet["article_id"]]
        assert bullet["text"] in source.text  # verbatim
        assert bullet["url"] == source.url and bullet["outlet"] == source.outlet
        assert "Click here" not in bullet["text"] and "PORTSMOUTH, N.H." not in bullet["text"]
    assert len({b["outlet"] for b in bullets}) >= 2


def test_a_summary_leaves_out_a_point_already_made():
    # the three ledes say the same thing: only one of them may be taken
    bullets = summarize(BRIDGE)
    ledes = [b for b in bullets if "Marlow Star" in b["text"] and ("struck" in b["text"] or "hit" in b["text"]
                                                                   or "lost power" in b["text"])]
    assert len(ledes) == 1
    assert len({b["text"] for b in bullets}) == len(bullets)


def test_a_syndicated_text_twice_gives_one_bullet_not_two():
    copy = _source(4, "herald.example", BRIDGE[1].title, BRIDGE[1].text)
    bullets = summarize([*BRIDGE, copy])
    assert len({b["text"] for b in bullets}) == len(bullets)


def test_when_one_outlet_writes_most_the_bullets_still_come_from_two():
    long = _source(5, "ledger.example", "Everything about the bridge", BRIDGE[0].text + "\n\n" + BRIDGE[1].text)
    short = _source(6, "courier.example", "Bridge falls", "Families of the missing workers gathered at the "
                    "Portsmouth high school on Tuesday night, where the Red Cross opened a shelter.")
    bullets = summarize([long, short])
    assert {b["outlet"] for b in bullets} == {"ledger.example", "courier.example"}


def test_no_summary_for_a_single_outlet_or_nothing_usable():
    assert summarize(BRIDGE[:1]) == []
    assert summarize([BRIDGE[0], _source(9, "ledger.example", "Second piece", BRIDGE[1].text)]) == []
    assert summarize([_source(7, "a.example", "x", "Too short."), _source(8, "b.example", "y", "Also short.")]) == []


def test_bullet_count_grows_with_the_number_of_outlets():
    many = [_source(10 + i, f"o{i}.example", s.title, s.text) for i, s in enumerate(BRIDGE * 3)]
    assert len(summarize(many, SummaryConfig(max_similarity=0.95))) == 5
