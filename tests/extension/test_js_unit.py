"""The extension's pure-logic modules (matching, formatting, settings) under node's own test runner."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

EXTENSION = Path(__file__).resolve().parents[2] / "extension"
NODE = shutil.which("node")


@pytest.mark.skipif(NODE is None, reason="node is not installed")
def test_node_unit_tests():
    files = sorted(str(path.relative_to(EXTENSION)) for path in (EXTENSION / "tests").glob("*.test.js"))
    assert files, "no extension/tests/*.test.js found"
    result = subprocess.run(
        [NODE, "--test", *files], cwd=EXTENSION, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
