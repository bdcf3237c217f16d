"""Jobs: each reads rows, runs pure rules, applies planned writes and messages.

The Prefect flows in ``flows/`` are thin wrappers around these, and ``actops run <job>``
calls them directly.
"""
