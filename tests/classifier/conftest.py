"""A synthetic corpus: left, center and right vocabularies spread over several fake outlets."""
from __future__ import annotations

import random

import pytest

VOCAB = {
    "left": """progressive workers union wages climate crisis justice equity inequality billionaires corporate
    greed healthcare access voting rights undocumented immigrants reproductive freedom gun safety renewable
    systemic racism affordable housing""".split(),
    "center": """officials said committee report data analysts according estimate quarter agency statement
    percent survey hearing schedule briefing federal review figures budget office forecast""".split(),
    "right": """conservative liberty freedom taxpayers border security illegal aliens patriots faith family
    values second amendment deregulation radical left socialism mainstream media woke elites tax relief
    sanctity life""".split(),
}
COMMON = """the a of to and in on for with that this was is by at from as it were said will would about
after before new year week government people country state city plan policy vote senate house""".split()


def make_records(outlets_per_label: int = 6, articles_per_outlet: int = 10, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    records = []
    for label, words in VOCAB.items():
        for outlet in range(outlets_per_label):
            domain = f"{label}{outlet}.example"
            house = f"housestyle{label}{outlet}"  # an outlet tell, present in every article of the outlet
            for number in range(articles_per_outlet):
                body = [rng.choice(words) if rng.random() < 0.35 else rng.choice(COMMON) for _ in range(120)]
                body.insert(rng.randrange(len(body)), house)
                title = " ".join(rng.choice(words) for _ in range(3)).title()
                sentences = [" ".join(body[i : i + 15]).capitalize() + "." for i in range(0, len(body), 15)]
                records.append(
                    {
                        "title": title,
                        "text": "\n\n".join(" ".join(sentences[i : i + 3]) for i in range(0, len(sentences), 3)),
                        "label": label,
                        "domain": domain,
                        "id": f"{domain}-{number}",
                    }
                )
    return records


#: Parameters for the small corpora of the tests: the vocabulary filters scaled down with the data.
SMALL = {"min_df": 2, "min_outlets": 2, "max_iter": 300}


@pytest.fixture(scope="session")
def synthetic_records() -> list[dict]:
    return make_records()


@pytest.fixture(scope="session")
def trained(synthetic_records):
    from newstilt.classifier import train

    return train(synthetic_records, progress=False, params=SMALL)
