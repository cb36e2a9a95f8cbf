"""The bundled outlet table at its full size: every row well formed, every code a real one, no key twice, and
enough outlets of every kind a reader meets (issue #14)."""
from __future__ import annotations

import csv
import re
from collections import Counter
from importlib import resources

import pytest

from newstilt.ratings import OUTLETS_COLUMNS, owner_group, parse_bundled, read_bundled_text
from newstilt.scale import BIAS_LABELS, FACTUALITY_LEVELS, OWNERSHIP_CATEGORIES, QUESTIONABLE_FLAGS

from .conftest import RESOURCES

DOMAIN = re.compile(r"^(?=.{4,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(xn--[a-z0-9-]{2,59}|[a-z]{2,63})"
                    r"(/[a-z0-9._~-]+)*$")


def _codes(name: str) -> set[str]:
    lines = (RESOURCES / "ratings" / name).read_text(encoding="utf-8").splitlines()
    return {line.split()[0] for line in lines if line and not line.startswith("#")}


COUNTRIES = _codes("iso-3166-1-alpha-2.txt")
LANGUAGES = _codes("iso-639-1.txt")


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    return list(csv.DictReader(read_bundled_text().splitlines()))


@pytest.fixture(scope="module")
def rated(rows) -> list[dict]:
    return [row for row in rows if not row["platform"]]


def test_the_table_parses_and_has_its_columns(rows):
    assert tuple(rows[0]) == OUTLETS_COLUMNS
    assert len(parse_bundled(read_bundled_text())) == len(rows)


def test_at_least_2500_rated_outlets(rated):
    assert len(rated) >= 2500


def test_every_row_is_well_formed(rated):
    problems = []
    for row in rated:
        where = row["domain"]
        if not DOMAIN.match(row["domain"]) or row["domain"].startswith("www."):
            problems.append(f"{where}: domain syntax")
        if row["bias"] not in (*BIAS_LABELS, ""):
            problems.append(f"{where}: bias {row['bias']!r}")
        if row["factuality"] not in FACTUALITY_LEVELS:
            problems.append(f"{where}: factuality {row['factuality']!r}")
        if row["ownership"] not in OWNERSHIP_CATEGORIES:
            problems.append(f"{where}: ownership {row['ownership']!r}")
        if row["country"] not in COUNTRIES:
            problems.append(f"{where}: country {row['country']!r} is not an ISO 3166-1 code")
        if row["language"] not in LANGUAGES:
            problems.append(f"{where}: language {row['language']!r} is not an ISO 639-1 code")
        if not row["owner"].strip() or row["owner"].strip().lower() in ("independent", "unknown", "n/a"):
            problems.append(f"{where}: owner must name the owner")
        flags = row["flags"].split()
        if any(flag not in QUESTIONABLE_FLAGS for flag in flags):
            problems.append(f"{where}: flags {flags}")
        if flags and row["factuality"] in ("very-high", "high"):
            problems.append(f"{where}: a questionable source rated {row['factuality']} for factuality")
        if not row["bias"] and not {"satire", "pseudoscience"} & set(flags):
            problems.append(f"{where}: no bias")
        for alias in row["aliases"].split():
            if not DOMAIN.match(alias):
                problems.append(f"{where}: alias {alias!r}")
    assert problems == []


def test_no_domain_or_alias_twice_and_no_alias_is_another_outlets_domain(rows):
    keys = Counter(key for row in rows for key in (row["domain"], *row["aliases"].split()))
    assert [key for key, n in keys.items() if n > 1] == []
    domains = {row["domain"] for row in rows}
    assert [(row["domain"], a) for row in rows for a in row["aliases"].split() if a in domains] == []


def test_the_table_covers_what_readers_meet(rated):
    """Local TV and papers with their owner groups, the largest news markets in their languages, state media and
    the questionable sources readers meet (the trial's examples among them)."""
    by_domain = {row["domain"]: row for row in rated}
    for domain in ("abc7.com", "6abc.com", "abc7chicago.com", "9news.com", "10tv.com", "20minutes.fr", "ard.de",
                   "berliner-zeitung.de", "aftonbladet.se", "ad.nl", "berlingske.dk", "abc.es", "1tv.ru",
                   "444.hu", "bdnews24.com", "biobiochile.cl"):
        assert domain in by_domain, domain
    groups = Counter(owner_group(row["owner"]) for row in rated)
    for owner in ("Sinclair Broadcast Group", "Nexstar Media Group", "Gray Media", "E.W. Scripps Company",
                  "Hearst Communications", "USA TODAY Co.", "Alden Global Capital", "Lee Enterprises"):
        assert groups[owner] >= 10, owner
    countries = Counter(row["country"] for row in rated)
    assert len(countries) >= 100 and sum(1 for n in countries.values() if n >= 10) >= 30
    languages = Counter(row["language"] for row in rated)
    assert len(languages) >= 40
    assert sum(1 for row in rated if row["ownership"] == "state-controlled") >= 100
    assert sum(1 for row in rated if row["flags"]) >= 150


def test_owner_groups():
    assert owner_group("Nexstar Media Group (TEGNA)") == "Nexstar Media Group"
    assert owner_group("Privately held (The Shovel)") == "Privately held (The Shovel)"
    assert owner_group(None) is None


def test_every_default_feed_names_a_rated_outlet():
    from newstilt.feeds import parse_opml

    body = resources.files("newstilt").joinpath("data/default-feeds.opml").read_bytes()
    table = {row["domain"] for row in csv.DictReader(read_bundled_text().splitlines()) if not row["platform"]}
    items = list(parse_opml(body))
    assert len(items) >= 350
    assert [item.xml_url for item in items if item.outlet not in table] == []
