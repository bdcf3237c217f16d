"""Pure business rules (no I/O, no clock): workdays, escalation ladder, late reports."""
