"""审计抽样 (quarterly audit sampling, AUD-1..5): sizes, monetary-unit sampling, strata, the
reproducible draw, evaluation and the checklist, as pure modules (no I/O, no clock)."""
