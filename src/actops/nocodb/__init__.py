"""Thin typed client for NocoDB's v2 API: Api → Base → Table (after pyairtable)."""

from actops.nocodb._api import Api, RetryPolicy
from actops.nocodb._base import Base
from actops.nocodb._table import Table, where_and

__all__ = ["Api", "Base", "RetryPolicy", "Table", "where_and"]
