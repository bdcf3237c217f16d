"""Thin typed client for NocoDB's v2 API: Api → Base → Table (after pyairtable)."""

from actops.nocodb._api import Api, RetryPolicy
from actops.nocodb._base import Base
from actops.nocodb._table import Table, where_and
from actops.nocodb.where import Expr, F, Where, and_, not_, or_

__all__ = ["Api", "Base", "Expr", "F", "RetryPolicy", "Table", "Where", "and_", "not_", "or_", "where_and"]
