"""Schema as code: the bases, tables, fields, views and forms in ``schema/*.yaml``."""

from actops.schema.spec import BaseSpec, FieldSpec, FormSpec, TableSpec, ViewSpec, load_schema

__all__ = ["BaseSpec", "FieldSpec", "FormSpec", "TableSpec", "ViewSpec", "load_schema"]
