"""考评 (evaluations): KPI actuals and scores, cycle scores, grades, streaks and fairness
(KPI-1, KPI-2, EVA-1..7, RPT-1). The rule modules are pure: no I/O, no clock."""
