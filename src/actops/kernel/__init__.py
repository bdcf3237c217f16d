"""What every job shares: the workday calendar, the org, typed settings, the rules that
report contradictions (REL-2, shared with `actops check`), the run log and its lease,
change marks, and the runner that ties them together."""
