"""月度总结 (summaries): last month's numbers per department and for the company, charts in
Chinese, the deviation report, e-mail, WeCom, a Prefect artifact and an archived file (SUM-1..3)."""

from actops.jobs.summaries.job import JOB, NAME

__all__ = ["JOB", "NAME"]
