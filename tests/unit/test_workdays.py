"""Workday arithmetic on the real PRC 2026 calendar (National Day week, 调休 make-up days)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from actops.kernel.calendar import TZ, WorkCalendar, known_years, prc_calendar_rows


def at(y, m, d, hh=0, mm=0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=TZ)


@pytest.fixture(scope="module")
def rows2026() -> list[dict]:
    return prc_calendar_rows([2026])


@pytest.fixture(scope="module")
def cal(rows2026) -> WorkCalendar:
    calendar, warnings = WorkCalendar.from_rows(rows2026)
    assert warnings == []
    return calendar


@pytest.mark.req("ESC-3")
def test_prc_rows_2026_national_day_and_makeup_days(rows2026):
    by_date = {r["date"]: r for r in rows2026}
    assert len(rows2026) == 365
    for day in range(1, 8):
        r = by_date[f"2026-10-0{day}"]
        assert (r["is_workday"], r["kind"], r["holiday"]) == (False, "法定节假日", "国庆节")
    # the make-up days chinese_calendar lists for National Day 2026: Sun Sep 20, Sat Oct 10
    assert by_date["2026-09-20"] == {
        "date": "2026-09-20",
        "is_workday": True,
        "kind": "调休上班",
        "holiday": "国庆节",
    }
    assert by_date["2026-10-10"]["kind"] == "调休上班" and by_date["2026-10-10"]["is_workday"]
    assert by_date["2026-10-11"] == {
        "date": "2026-10-11",
        "is_workday": False,
        "kind": "周末",
        "holiday": "",
    }
    assert by_date["2026-10-08"]["kind"] == "工作日" and by_date["2026-10-08"]["holiday"] == ""
    assert (
        by_date["2026-09-25"]["kind"] == "法定节假日" and by_date["2026-09-25"]["holiday"] == "中秋"
    )


@pytest.mark.req("ESC-3")
def test_unsupported_years_are_skipped_not_raised():
    years = known_years()
    assert 2026 in years and 1900 not in years and 2999 not in years
    rows = prc_calendar_rows([1900, 2026, 2999])
    assert {r["date"][:4] for r in rows} == {"2026"}


@pytest.mark.req("ESC-1", "ESC-3")
def test_national_day_sla_skips_holiday_week(cal):
    due = cal.add_workdays(at(2026, 9, 30, 15), 2)
    assert due == at(2026, 10, 9, 15)  # Oct 8 is the 1st workday, Oct 9 the 2nd
    assert due.tzinfo is not None and due.utcoffset().total_seconds() == 8 * 3600
    # plain Mon–Fri would have said Friday Oct 2: the calendar matters
    assert WorkCalendar({}).add_workdays(at(2026, 9, 30, 15), 2) == at(2026, 10, 2, 15)


@pytest.mark.req("ESC-3")
def test_makeup_workdays_count(cal):
    assert cal.is_workday(date(2026, 10, 10)) and not cal.is_workday(date(2026, 10, 11))
    assert cal.add_workdays(at(2026, 10, 9, 15), 1) == at(2026, 10, 10, 15)  # make-up Saturday
    assert cal.add_workdays(at(2026, 9, 18, 10), 1) == at(2026, 9, 20, 10)  # make-up Sunday
    # Mid-autumn Fri Sep 25 – Sun Sep 27 off
    assert cal.add_workdays(at(2026, 9, 24, 10), 2) == at(2026, 9, 29, 10)


@pytest.mark.req("ESC-1")
def test_opening_on_non_workday_counts_from_next_workday_start(cal):
    # opened during the holiday: the clock starts Oct 8 00:00, 2 full workdays end Oct 9 24:00
    assert cal.add_workdays(at(2026, 10, 3, 10), 2) == at(2026, 10, 10, 0)
    assert cal.add_workdays(at(2026, 10, 3, 10), 0) == at(2026, 10, 3, 10)
    # a later opening never gets an earlier due time
    assert cal.add_workdays(at(2026, 9, 30, 23, 59), 2) < cal.add_workdays(at(2026, 10, 3, 10), 2)


@pytest.mark.req("ESC-3")
def test_fractions_backwards_and_between(cal):
    start = at(2026, 9, 30, 15)
    assert cal.add_workdays(start, 0.5) == at(2026, 10, 8, 3)  # 9 h on Sep 30 + 3 h on Oct 8
    assert cal.workdays_between(start, at(2026, 10, 9, 15)) == 2.0
    assert cal.workdays_between(at(2026, 10, 9, 15), start) == -2.0
    assert cal.workdays_between(at(2026, 10, 1), at(2026, 10, 8)) == 0.0
    assert cal.add_workdays(at(2026, 10, 19), -5) == at(2026, 10, 12)
    assert cal.add_workdays(at(2026, 10, 12), -3) == at(2026, 10, 8)  # via make-up Sat Oct 10


@pytest.mark.req("ESC-3")
def test_other_timezones_are_converted(cal):
    utc = datetime(2026, 9, 30, 7, 0, tzinfo=UTC)  # 15:00 in Shanghai
    assert cal.add_workdays(utc, 2) == at(2026, 10, 9, 15)
    with pytest.raises(ValueError, match="naive"):
        cal.add_workdays(datetime(2026, 9, 30, 15), 2)


@pytest.mark.req("ESC-3")
def test_fallback_outside_known_calendar_is_reported(cal):
    # 2027 is not in the table: Jan 1 2027 (a Friday) counts as a workday by the fallback
    assert cal.add_workdays(at(2026, 12, 31, 10), 2) == at(2027, 1, 4, 10)
    assert cal.known(date(2026, 12, 31)) and not cal.known(date(2027, 1, 1))
    assert cal.unknown_in(date(2026, 12, 30), date(2027, 1, 4)) == [
        date(2027, 1, 1),
        date(2027, 1, 2),
        date(2027, 1, 3),
        date(2027, 1, 4),
    ]
    assert cal.unknown_in(date(2026, 10, 1), date(2026, 10, 31)) == []


@pytest.mark.req("ESC-3")
def test_from_rows_accepts_edits_and_warns_on_bad_dates():
    cal, warnings = WorkCalendar.from_rows(
        [
            {"date": "2026-10-12", "is_workday": False},  # staff made a Monday a day off
            {"date": date(2026, 10, 17), "is_workday": True},
            {"date": "2026-10-09", "is_workday": "false"},
            {"date": "12/10/2026", "is_workday": True},
        ]
    )
    assert not cal.is_workday(date(2026, 10, 12))
    assert cal.is_workday(date(2026, 10, 17))
    assert not cal.is_workday(date(2026, 10, 9))
    assert len(warnings) == 1 and "12/10/2026" in warnings[0]
