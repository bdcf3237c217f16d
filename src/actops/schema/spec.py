from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from actops.config import repo_root
from actops.errors import SchemaError
from actops.schema import settings_ref

# Our field types → NocoDB uidt. "ref" is a business key of another table's row, kept as
# text so the engine can read and write it in bulk and report a dangling one on the row.
UIDT = {
    "text": "SingleLineText",
    "longtext": "LongText",
    "number": "Number",
    "decimal": "Decimal",
    "currency": "Currency",
    "percent": "Percent",
    "date": "Date",
    "datetime": "DateTime",
    "checkbox": "Checkbox",
    "select": "SingleSelect",
    "multiselect": "MultiSelect",
    "email": "Email",
    "phone": "PhoneNumber",
    "url": "URL",
    "rating": "Rating",
    "attachment": "Attachment",
    "json": "JSON",
    "ref": "SingleLineText",
    "formula": "Formula",
    "created_by": "CreatedBy",
    "modified_by": "LastModifiedBy",
}
# Fields NocoDB fills itself; the engine never writes them. A `created_by` field shows the
# account that created the row (the signed-in person who submitted a form): the records
# API returns it as ``{"id", "email", "display_name", "meta"}``, even for rows created
# before the field was added (it reads NocoDB's own created_by column).
# A `modified_by` field shows the account of the row's last editor (LastModifiedBy), the
# same shape; approvals accept a decision typed into a grid only from the approver's account.
COMPUTED = {"formula", "created_by", "modified_by"}
NUMERIC = {"number", "decimal", "currency", "percent", "rating"}
DECIMAL_PRECISION = 2  # decimals shown for a `decimal` field unless it says `precision:`
MAX_PRECISION = 8  # NocoDB offers 0–8 decimals (nocodb-sdk precisionFormats)

FieldType = Literal[
    "text", "longtext", "number", "decimal", "currency", "percent", "date", "datetime",
    "checkbox", "select", "multiselect", "email", "phone", "url", "rating", "attachment",
    "json", "ref", "formula", "created_by", "modified_by",
]
KEY_PREFIX_RE = re.compile(r"^[A-Z][A-Z0-9]{1,5}$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldSpec(_Model):
    name: str  # physical column name, stable; the engine's name for the field
    zh: str  # title staff see
    en: str
    type: FieldType
    required: bool = False
    options: tuple[str, ...] = ()
    ref: str | None = None  # for type ref: target table name (its key field)
    # A ref to a table of the same base is also a NocoDB link, so staff pick the row from a
    # list and grids show its name (STF-2); the key column stays for the engine, titled
    # `text_title` and kept in step by the store. Resolved by load_schema; `link: false` opts out.
    link: bool | None = None
    text_title: str | None = None
    formula: str | None = None  # NocoDB formula over zh titles
    default: Any = None
    help: str = ""  # zh, for staff: becomes the field's description in NocoDB and in forms
    precision: int | None = None  # decimals shown; decimal fields default to DECIMAL_PRECISION
    # Plausible range of a numeric field (REL-2); currency defaults to 0 .. 1e9 CNY (records.py).
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _check(self) -> FieldSpec:
        if self.precision is not None:
            if self.type not in ("decimal", "percent"):
                raise ValueError(f"field {self.name}: precision is for decimal or percent fields")
            if not 0 <= self.precision <= MAX_PRECISION:
                raise ValueError(f"field {self.name}: precision must be 0–{MAX_PRECISION}")
        if (self.min is not None or self.max is not None) and self.type not in NUMERIC:
            raise ValueError(f"field {self.name}: min/max only apply to numeric fields")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"field {self.name}: min {self.min} is above max {self.max}")
        if self.type in ("select", "multiselect") and not self.options:
            raise ValueError(f"field {self.name}: {self.type} needs options")
        if self.type == "ref" and not self.ref:
            raise ValueError(f"field {self.name}: ref needs `ref: <table>`")
        if self.type == "formula" and not self.formula:
            raise ValueError(f"field {self.name}: formula needs `formula:`")
        if self.type in ("created_by", "modified_by") and (self.required or self.default is not None):
            raise ValueError(f"field {self.name}: a {self.type} field is filled by NocoDB (no required, no default)")
        return self

    @property
    def key_column_title(self) -> str:
        """Title of the column holding the value (for a linked ref: the key beside the link)."""
        return self.text_title or self.zh

    @property
    def fk_title(self) -> str:
        """Title given to the hidden foreign-key column of this field's link."""
        return f"{self.name}__fk"

    @property
    def uidt(self) -> str:
        return UIDT[self.type]

    @property
    def computed(self) -> bool:
        return self.type in COMPUTED

    @property
    def shown_precision(self) -> int | None:
        """Decimals NocoDB should show (column meta ``precision``); None: leave NocoDB's own."""
        if self.type == "decimal":
            return DECIMAL_PRECISION if self.precision is None else self.precision
        return self.precision


class ViewSpec(_Model):
    zh: str
    en: str
    description: str = ""  # zh, for staff; none when empty
    type: Literal["grid"] = "grid"
    # each filter: [field name, comparison op, value] or [field, op, sub_op, value];
    # the value may be {setting: <key>} (see settings_ref)
    filters: tuple[tuple[Any, ...], ...] = ()
    sorts: tuple[str, ...] = ()  # field names; "-name" for descending
    group_by: tuple[str, ...] = ()  # field names, outermost group first; "-name" for descending
    # The filters an earlier schema gave this view: a live view that still has exactly these
    # gets ``filters`` instead (schema/views.py); one changed in NocoDB is left alone.
    old_filters: tuple[tuple[Any, ...], ...] | None = None

    @field_validator("filters", mode="before")
    @classmethod
    def _setting_values(cls, filters: Any) -> Any:
        if not isinstance(filters, list | tuple):
            return filters
        return [[*f[:-1], settings_ref.parse(f[-1])] if isinstance(f, list | tuple) and len(f) >= 3 else f
                for f in filters]


class FormSpec(_Model):
    zh: str
    en: str
    description: str = ""  # zh, for staff; none when empty
    heading: str = ""
    fields: tuple[str, ...]
    required: tuple[str, ...] = ()
    success: str = "已提交，谢谢！"


class TableSpec(_Model):
    name: str
    zh: str
    en: str
    description: str = ""  # zh, for staff; none when empty
    key: str  # natural key field name (unique per row)
    # the field NocoDB shows as the row's name (its "display value", the first grid column and
    # what a link to the row shows); default: a field named ``name`` or ``title``, else the key
    display: str | None = None
    # Keys the system gives rows that arrive without one (a form leaves the key out):
    # <key_prefix>-<YYYYMMDD>-<NNNN>, see actops.jobs.intake.numbering.
    key_prefix: str | None = None
    req: tuple[str, ...] = ()  # SPEC ids this table serves
    fields: tuple[FieldSpec, ...]
    views: tuple[ViewSpec, ...] = ()
    forms: tuple[FormSpec, ...] = ()
    # seed rows inserted if their key is missing; a value may be {setting: <key>} (settings_ref)
    rows: tuple[dict[str, Any], ...] = ()

    @field_validator("rows", mode="before")
    @classmethod
    def _setting_values(cls, rows: Any) -> Any:
        if not isinstance(rows, list | tuple):
            return rows
        return [{k: settings_ref.parse(v) for k, v in r.items()} if isinstance(r, dict) else r for r in rows]

    @model_validator(mode="after")
    def _check(self) -> TableSpec:
        names = [f.name for f in self.fields]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ValueError(f"table {self.name}: duplicate fields {sorted(dup)}")
        titles = [f.zh for f in self.fields]
        if len(set(titles)) != len(titles):
            raise ValueError(f"table {self.name}: duplicate zh titles")
        if self.key not in names:
            raise ValueError(f"table {self.name}: key {self.key!r} is not a field")
        if self.display is not None and self.display not in names:
            raise ValueError(f"table {self.name}: display {self.display!r} is not a field")
        for view in self.views:
            for flt in view.filters:
                if flt[0] not in names:
                    raise ValueError(f"table {self.name}, view {view.zh}: unknown field {flt[0]!r}")
            for s in view.sorts:
                if s.lstrip("-") not in names:
                    raise ValueError(f"table {self.name}, view {view.zh}: unknown sort field {s!r}")
            for g in view.group_by:
                if g.lstrip("-") not in names:
                    raise ValueError(f"table {self.name}, view {view.zh}: unknown group-by field {g!r}")
            for flt in view.old_filters or ():
                if flt[0] not in names:
                    raise ValueError(f"table {self.name}, view {view.zh}: unknown field {flt[0]!r} in old_filters")
        if self.key_prefix is not None and not KEY_PREFIX_RE.match(self.key_prefix):
            raise ValueError(f"table {self.name}: key_prefix {self.key_prefix!r} must be 2–6 capital letters or digits")
        for form in self.forms:
            for f in (*form.fields, *form.required):
                if f not in names:
                    raise ValueError(f"table {self.name}, form {form.zh}: unknown field {f!r}")
            # STF-1: a form row must be acceptable as it is, so a key the form leaves out is
            # given by the system, which needs a prefix to give it.
            if self.key not in form.fields and self.key_prefix is None:
                raise ValueError(f"table {self.name}, form {form.zh}: the form leaves out the key "
                                 f"{self.key!r}; give the table a `key_prefix:` so the system can fill it")
        for row in self.rows:
            for k, v in row.items():
                if settings_ref.is_ref(v) and (k == self.key or k not in names or self.field(k).type not in _REF_TYPES):
                    raise ValueError(f"table {self.name}: field {k!r} cannot take {v}")
        return self

    def setting_refs(self) -> list[settings_ref.SettingRef]:
        """Every {setting: …} in this table's seed rows and view filters."""
        in_rows = [v for r in self.rows for v in r.values() if settings_ref.is_ref(v)]
        return in_rows + [f[-1] for v in self.views for f in v.filters if settings_ref.is_ref(f[-1])]

    @property
    def display_field(self) -> str:
        """The field that names a row for people (see ``display``)."""
        if self.display is not None:
            return self.display
        names = {f.name for f in self.fields}
        return next((n for n in ("name", "title") if n in names), self.key)

    def field(self, name: str) -> FieldSpec:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"{self.name}.{name}")


class BaseSpec(_Model):
    name: str
    zh: str
    en: str
    description: str = ""  # zh, for staff; none when empty
    restricted: bool = False  # EVA-7: only HR and managers get access
    tables: tuple[TableSpec, ...]


# Field types a {setting: …} value may fill (settings_ref.convert turns the text into these).
_REF_TYPES = {"text", "longtext", "number", "decimal", "currency", "percent", "checkbox"}

# Fields every table gets, so a flow can say on the row itself what is wrong with it.
COMMON_FIELDS = (
    {"name": "data_issue", "zh": "数据问题", "en": "Data issue", "type": "longtext",
     "help": "由系统填写：本行未通过校验的原因；改正后下次运行自动清除"},
)


def _load_file(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise SchemaError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise SchemaError(f"{path}: expected a mapping at the top")
    return data


def load_schema(directory: Path | None = None) -> tuple[BaseSpec, ...]:
    """Read ``schema/<base>/_base.yaml`` plus one file per domain with its tables."""
    directory = directory or repo_root() / "schema"
    return _load_schema(directory.resolve())


@cache
def _load_schema(directory: Path) -> tuple[BaseSpec, ...]:
    bases = []
    for base_dir in sorted(p for p in directory.iterdir() if p.is_dir()):
        head = _load_file(base_dir / "_base.yaml")
        tables: list[dict[str, Any]] = []
        for f in sorted(base_dir.glob("*.yaml")):
            if f.name != "_base.yaml":
                tables.extend(_load_file(f).get("tables", []))
        for t in tables:
            t["fields"] = [*t.get("fields", []), *COMMON_FIELDS]
        try:
            bases.append(BaseSpec(**head, tables=tables))
        except ValueError as exc:
            raise SchemaError(f"{base_dir}: {exc}") from exc
    _check_refs(bases)
    _check_setting_refs(bases)
    return tuple(_with_ref_help(bases))


def _with_ref_help(bases: list[BaseSpec]) -> list[BaseSpec]:
    """Resolve references: what to type in an unlinked one (help), and whether it is a link.

    A reference to a table of the same base becomes a link (picked from a list); its key
    column is titled like 「负责人（工号）」 so the link can take the plain title 「负责人」.
    """
    tables = {t.name: t for b in bases for t in b.tables}
    base_of = {t.name: b.name for b in bases for t in b.tables}

    def resolved(b: BaseSpec, f: FieldSpec) -> FieldSpec:
        if f.type != "ref":
            return f
        target = tables[f.ref]
        key_zh = target.field(target.key).zh
        linked = f.link is not False and base_of[f.ref] == b.name
        update: dict[str, Any] = {"link": linked}
        if linked:
            update["text_title"] = f"{f.zh}（{key_zh}）"
            if not f.help:
                update["help"] = f"从「{target.zh}」中选择"
        elif not f.help:
            update["help"] = f"填写「{target.zh}」表中的{key_zh}"
        return f.model_copy(update=update)

    def table(b: BaseSpec, t: TableSpec) -> TableSpec:
        fields = [resolved(b, f) for f in t.fields]
        # A formula names a reference by its title; once that title is the link's, it means
        # the key column beside it (a formula over a link column is not a plain value).
        renames = {f"{{{f.zh}}}": f"{{{f.key_column_title}}}" for f in fields if f.type == "ref" and f.link}
        for i, f in enumerate(fields):
            if f.type == "formula" and f.formula and renames:
                text = f.formula
                for old, new in renames.items():
                    text = text.replace(old, new)
                fields[i] = f.model_copy(update={"formula": text})
        return t.model_copy(update={"fields": tuple(fields)})

    return [b.model_copy(update={"tables": tuple(table(b, t) for t in b.tables)}) for b in bases]


def _check_refs(bases: list[BaseSpec]) -> None:
    names = {t.name for b in bases for t in b.tables}
    for b in bases:
        for t in b.tables:
            for f in t.fields:
                if f.type == "ref" and f.ref not in names:
                    raise SchemaError(f"{b.name}.{t.name}.{f.name}: ref to unknown table {f.ref!r}")


def _check_setting_refs(bases: list[BaseSpec]) -> None:
    settings = [t for b in bases for t in b.tables if t.name == settings_ref.SETTINGS_TABLE]
    keys = set(settings_ref.default_settings(settings[0].rows)) if settings else set()
    for b in bases:
        for t in b.tables:
            for ref in t.setting_refs():
                if ref.key not in keys:
                    raise SchemaError(f"{b.name}.{t.name}: {ref} names no row of the settings table")


def find_table(name: str, bases: tuple[BaseSpec, ...] | None = None) -> tuple[BaseSpec, TableSpec]:
    for b in bases or load_schema():
        for t in b.tables:
            if t.name == name:
                return b, t
    raise SchemaError(f"no table {name!r} in schema/")
