"""Unit-test fixtures."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _own_row_copies(tmp_path, monkeypatch):
    """Each test keeps its jobs' local row copies (kernel.row_cache) apart: the fake NocoDB's ids
    are the same in every test, so a shared folder would hand one test another's copy."""
    monkeypatch.setenv("ACTOPS_CACHE_DIR", str(tmp_path / "rows"))
