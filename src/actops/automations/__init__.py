"""Reactions to table edits, declared as data in ``automations/*.yaml`` (SEC-2).

``rules`` loads and checks the rules; ``hooks`` registers them as NocoDB webhooks
(`actops automations apply`); :mod:`actops.web.hooks` receives them in `actops serve` and
wakes the rule's job in the background. The jobs' schedules stay the source of truth.
"""

from actops.automations.rules import (
    Condition,
    Rule,
    RulesError,
    load_rules,
    missing_jobs,
    rules_dir,
)

__all__ = ["Condition", "Rule", "RulesError", "load_rules", "missing_jobs", "rules_dir"]
