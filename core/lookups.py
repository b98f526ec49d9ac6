"""`ilike`: case-insensitive contains that PostgreSQL's trigram GIN indexes can serve.

Django's `icontains` compiles to UPPER(col::text) LIKE UPPER(%s), which only an index on that exact
expression can help. `col ILIKE %s` is served by a plain `gin (col gin_trgm_ops)` index. Other
databases get the ordinary icontains SQL.
"""

from django.db.models import CharField, TextField
from django.db.models.lookups import IContains


class ILike(IContains):
    lookup_name = "ilike"

    def as_sql(self, compiler, connection):
        return IContains(self.lhs, self.rhs).as_sql(compiler, connection)

    def as_postgresql(self, compiler, connection):
        lhs_sql, lhs_params = self.process_lhs(compiler, connection)
        rhs_sql, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs_sql} ILIKE {rhs_sql}", (*lhs_params, *rhs_params)


CharField.register_lookup(ILike)
TextField.register_lookup(ILike)
