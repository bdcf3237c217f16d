"""A realistic, deterministic sample company for the activity-operations bases.

``generate(today, scale, seed)`` returns rows per table name, keyed by the internal field
names of ``schema/*/*.yaml``. It has no clock (``today`` is the reference day; "now" is taken
as ``today`` 00:00 Asia/Shanghai, so everything that has happened lies before it), writes
nothing, and only ``random.Random(seed)`` as a source of randomness, so the same arguments always
give the same rows. Besides its arguments it reads what the runtime reads: the approval routes
from the schema's seed rows, and the PRC workday calendar (``chinese_calendar``, the rows
``seed`` writes to the Calendar table), by which policy deadlines (stage gates, post-hoc
approval) are counted in workdays. When people act is still placed on Mon–Fri office hours.

Tables whose rows are declared in YAML (settings, activity types, approval routes, KPI
definitions, grade bands) are referred to but not emitted; the calendar and everything flows
produce (outbox, run log, summaries, audit samples, evaluations) are left out too. What people
start those flows from is in: open evaluation cycles (HR adds one row per cycle), last
quarter's audit cycle with its findings, and the current one waiting to be sampled. Fields a flow
computes (``data_issue``, formulas, warning levels, variance, hashes, due times of approval
steps) are never written. An optional field without a value is simply absent from the row.

The generator is split by domain: ``core`` holds the shared state and runs the steps in a fixed
order (each draws from the one RNG, so the order is part of the output); ``org``, ``customers``,
``activities``, ``approvals``, ``finance``, ``risks``, ``reports``, ``plans``, ``evaluations`` and
``audit`` each build their tables; ``calendar`` has the date helpers.
"""

from actops_dev.sample.core import generate

__all__ = ["generate"]
