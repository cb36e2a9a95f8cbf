"""The README's configuration table lists every setting declared in ``newstilt.config``: its variable and flag."""
from __future__ import annotations

from pathlib import Path

import pytest

from newstilt.config import Settings

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
TABLE = README.split("## Configuration", 1)[1].split("\n## ", 1)[0]


@pytest.mark.parametrize("declared", Settings.declared(), ids=lambda f: f.name)
def test_every_setting_is_in_the_readme_table(declared):
    meta = declared.metadata
    assert f"`{meta['env']}`" in TABLE or f"`{meta['env']}`," in TABLE
    if meta["flag"]:
        assert f"`{meta['flag']}`" in TABLE
