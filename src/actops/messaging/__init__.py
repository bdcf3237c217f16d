"""Messages every job sends: the outbox (one row per message), channels, rendering."""
