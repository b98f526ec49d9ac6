"""New rows in bulk: PostgreSQL's COPY where it is the database, Django's bulk_create elsewhere.
Used by the call backfill (telephony.ingest) and the history imports (imports.writer).

Why COPY: a page of call records inserts ~200 calls (and as many new contacts and their phones).
Django's bulk_create on psycopg 3 compiles every value through its field (`get_db_prep_save`) and binds
the page's values client-side, in Python (Django's psycopg cursor quotes parameters itself); that was
a third of a backfill page's time. COPY streams the rows through psycopg's C dumpers. The ids are
taken from the table's sequence first, so the objects get their primary keys exactly as bulk_create
gives them (the caller links calls to contacts by them).

A row that breaks a unique index raises IntegrityError, as an INSERT would, and the surrounding
transaction is lost: only callers that apply their work again on IntegrityError use COPY (the
backfill's pages, `services._record_page_with_retries`). `copy_insert_new` is the other way: the rows
are copied into a temporary table and moved with one INSERT … ON CONFLICT DO NOTHING, so the unique
indexes themselves drop the rows already stored (set-based, no lookup per row or per batch).
"""

import json

from django.db import connection, models, transaction
from django.db.models.fields.json import JSONField
from django.utils import timezone

# Field classes whose database value is the attribute as it is (exact classes only: a subclass may
# change the value on its way to the database, as core.fields.EncryptedTextField does).
AS_IS = {
    models.AutoField, models.BigAutoField, models.CharField, models.TextField, models.EmailField, models.URLField,
    models.SlugField, models.IntegerField, models.BigIntegerField, models.SmallIntegerField, models.PositiveIntegerField,
    models.PositiveSmallIntegerField, models.PositiveBigIntegerField, models.BooleanField, models.ForeignKey,
    models.OneToOneField, models.UUIDField,
}


def use_copy() -> bool:
    return connection.vendor == "postgresql"


# Below this many rows one INSERT … RETURNING is cheaper than COPY, which takes a round trip for the ids first.
COPY_MIN_ROWS = 8


def insert(model: type[models.Model], objs: list[models.Model]) -> None:
    """Insert `objs` (new, unsaved) and set their primary keys, by COPY on PostgreSQL, else bulk_create."""
    if not objs:
        return
    if not use_copy() or len(objs) < COPY_MIN_ROWS:
        model.objects.bulk_create(objs)
        return
    copy_insert(model, objs)


def copy_insert(model: type[models.Model], objs: list[models.Model]) -> None:
    columns, values = _columns(model)
    with connection.wrap_database_errors, connection.cursor() as wrapper:
        cursor = wrapper.cursor  # psycopg's own: COPY is not part of Django's cursor API
        _assign_pks(cursor, model, objs)
        _copy(cursor, connection.ops.quote_name(model._meta.db_table), columns, values, objs)
    _mark_stored(objs)


def copy_insert_new(model: type[models.Model], objs: list[models.Model]) -> list[models.Model]:
    """PostgreSQL: insert those of `objs` that break no unique index (and no other row of `objs`);
    return them, primary keys set. The others are left unsaved (pk None)."""
    if not objs:
        return []
    columns, values = _columns(model)
    quote = connection.ops.quote_name
    table, staging = quote(model._meta.db_table), quote(f"new_{model._meta.db_table}")
    with transaction.atomic(), connection.wrap_database_errors, connection.cursor() as wrapper:
        cursor = wrapper.cursor
        # Per connection, emptied at every commit (the rows never outlive this block's transaction).
        cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {staging} (LIKE {table}) ON COMMIT DELETE ROWS")
        _assign_pks(cursor, model, objs)
        _copy(cursor, staging, columns, values, objs)
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {staging} ON CONFLICT DO NOTHING RETURNING {quote(model._meta.pk.column)}"
        )
        kept = {pk for (pk,) in cursor.fetchall()}
        cursor.execute(f"TRUNCATE {staging}")
    inserted = [obj for obj in objs if obj.pk in kept]
    for obj in objs:
        if obj.pk not in kept:
            obj.pk = None
    _mark_stored(inserted)
    return inserted


def _columns(model: type[models.Model]) -> tuple[str, list]:
    """The column list COPY writes, and for each column a function obj → its value."""
    fields = [field for field in model._meta.concrete_fields if not field.generated]
    now = timezone.now()
    return ", ".join(connection.ops.quote_name(field.column) for field in fields), [_value_of(field, now) for field in fields]


def _assign_pks(cursor, model: type[models.Model], objs: list[models.Model]) -> None:
    """Primary keys from the table's sequence, one round trip for all (COPY returns none)."""
    meta = model._meta
    cursor.execute(
        "SELECT nextval(pg_get_serial_sequence(%s, %s)::regclass) FROM generate_series(1, %s)",
        [meta.db_table, meta.pk.column, len(objs)],
    )
    for obj, (pk,) in zip(objs, cursor.fetchall()):
        obj.pk = pk


def _copy(cursor, table: str, columns: str, values: list, objs: list[models.Model]) -> None:
    with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for obj in objs:
            copy.write_row([value(obj) for value in values])


def _mark_stored(objs: list[models.Model]) -> None:
    for obj in objs:
        obj._state.adding, obj._state.db = False, connection.alias


def _value_of(field: models.Field, now):
    """obj → the value COPY writes for `field` (what an INSERT of obj would store). auto_now and
    auto_now_add times are `now` for every row (bulk_create would read the clock once per row)."""
    attname = field.attname
    if isinstance(field, models.DateTimeField) and (field.auto_now or field.auto_now_add):

        def stamped(obj):
            setattr(obj, attname, now)
            return now

        return stamped
    if type(field) is models.FileField:

        def file_name(obj):
            value = obj.__dict__.get(attname)
            if type(value) is str:  # a new row's file is a name ("" for none) unless a file waits to be saved
                return value
            return field.get_db_prep_save(field.pre_save(obj, True), connection)

        return file_name
    if type(field) in AS_IS:
        return lambda obj: getattr(obj, attname)
    if type(field) is JSONField:
        encoder = field.encoder
        return lambda obj: None if getattr(obj, attname) is None else json.dumps(getattr(obj, attname), cls=encoder)
    if type(field) is models.DateTimeField:

        def moment(obj):
            value = getattr(obj, attname)
            if value is None or value.tzinfo is not None:
                return value
            return field.get_db_prep_save(value, connection)  # naive: made aware (and warned about) as Django does

        return moment
    # Anything else (encrypted text, …) goes the way an INSERT takes it.
    return lambda obj: field.get_db_prep_save(field.pre_save(obj, True), connection)
