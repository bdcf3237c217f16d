"""The sample company on a real NocoDB: every table filled, valid, and never duplicated."""

from __future__ import annotations

from datetime import date

import pytest

from actops.checks import check_all
from actops_dev.seed import seed


@pytest.mark.req("ORG-1", "ACT-1", "ACT-2", "APR-1", "APR-4", "RPT-1", "KPI-1", "FIN-1", "RSK-1", "CUS-1", "PLN-1", "ESC-3")
def test_seed_fills_every_table_validly_and_a_rerun_adds_nothing(make_store):
    store = make_store()
    first = seed(store, date(2026, 11, 22))
    assert first["employees"][0] >= 80 and first["activities"][0] >= 300 and first["departments"][0] >= 8
    assert first["calendar"][0] >= 365
    empty = [t.name for b in store.specs for t in b.tables
             # flow outputs start empty: messages, runs, summaries, audit samples, evaluations
             if t.name not in ("outbox", "run_log", "summaries", "audit_samples", "evaluations")
             and store.table(t.name).table.count() == 0]
    assert empty == []
    again = seed(store, date(2026, 11, 22))
    assert sum(created for created, _ in again.values()) == 0
    assert check_all(store) == []
