"""The SOQL subset, parsed with lark and translated to parameterized SQL.

SELECT fields | COUNT() FROM Object [WHERE ...] [ORDER BY ...] [LIMIT n] [OFFSET n]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from lark import Lark, Token, Transformer, UnexpectedInput, v_args

from .errors import SalesforceError, malformed, no_such_column
from .schema import FieldDef, ObjectDef, format_datetime, parse_datetime, to_18
from .store import Store, fold, quote

GRAMMAR = r"""
start: "SELECT"i select_list "FROM"i NAME where? order? limit? offset?
select_list: select_item ("," select_item)*
?select_item: count | path
count: "COUNT"i "(" ")"
path: NAME ("." NAME)*
where: "WHERE"i cond
?cond: unary | and_chain | or_chain
and_chain: unary ("AND"i unary)+
or_chain: unary ("OR"i unary)+
?unary: "NOT"i unary -> negate
      | "(" cond ")"
      | path OP value -> compare
      | path "LIKE"i value -> like
      | path "IN"i values -> in_
      | path "NOT"i "IN"i values -> not_in
values: "(" value ("," value)* ")"
value: STRING | DATETIME | DATE | NUMBER | NULL | TRUE | FALSE | DATE_LITERAL
order: "ORDER"i "BY"i order_item ("," order_item)*
order_item: path DIRECTION? (NULLS NULLS_POSITION)?
limit: "LIMIT"i INT
offset: "OFFSET"i INT

OP: "!=" | "<>" | "<=" | ">=" | "=" | "<" | ">"
STRING: /'(?:[^'\\]|\\.)*'/
DATETIME.3: /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})/
DATE.2: /\d{4}-\d{2}-\d{2}/
NUMBER: /-?\d+(\.\d+)?/
NULL.2: /null\b/i
TRUE.2: /true\b/i
FALSE.2: /false\b/i
DATE_LITERAL.2: /(TODAY|YESTERDAY|TOMORROW|(LAST_N_DAYS|NEXT_N_DAYS|N_DAYS_AGO):\d+)\b/i
DIRECTION.2: /(ASC|DESC)\b/i
NULLS.2: /NULLS\b/i
NULLS_POSITION.2: /(FIRST|LAST)\b/i
NAME: /[A-Za-z][A-Za-z0-9_]*/
%import common.INT
%import common.WS
%ignore WS
"""

PARSER = Lark(GRAMMAR, parser="lalr", maybe_placeholders=False)
ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", '"': '"', "'": "'",
           "\\": "\\"}


@dataclass
class Column:
    path: tuple[str, ...]  # canonical names: ("Email",) or ("Owner", "Name")
    field: FieldDef
    sql: str
    related_type: str | None = None
    related_id_sql: str | None = None


@dataclass
class CompiledQuery:
    obj: ObjectDef
    columns: list[Column]
    count_only: bool
    from_sql: str
    where_sql: str
    params: list
    order_sql: str
    limit: int | None
    offset: int | None


@dataclass
class _Ast:
    obj: str
    select: list
    where: object = None
    order: list = field(default_factory=list)
    limit: int | None = None
    offset: int | None = None


class _ToAst(Transformer):
    def path(self, names: list[Token]) -> tuple[str, ...]:
        return tuple(str(n) for n in names)

    def count(self, _: list) -> str:
        return "COUNT()"

    def select_list(self, items: list) -> list:
        return items

    def value(self, tokens: list[Token]) -> Token:
        return tokens[0]

    def values(self, tokens: list[Token]) -> list[Token]:
        return tokens

    @v_args(inline=True)
    def compare(self, path: tuple, op: Token, value: Token) -> tuple:
        return ("cmp", path, "!=" if op == "<>" else str(op), value)

    @v_args(inline=True)
    def like(self, path: tuple, value: Token) -> tuple:
        return ("like", path, value)

    @v_args(inline=True)
    def in_(self, path: tuple, values: list) -> tuple:
        return ("in", path, values)

    @v_args(inline=True)
    def not_in(self, path: tuple, values: list) -> tuple:
        return ("not_in", path, values)

    @v_args(inline=True)
    def negate(self, cond: tuple) -> tuple:
        return ("not", cond)

    def and_chain(self, conds: list) -> tuple:
        return ("and", conds)

    def or_chain(self, conds: list) -> tuple:
        return ("or", conds)

    @v_args(inline=True)
    def where(self, cond: tuple) -> tuple:
        return ("where", cond)

    def order_item(self, parts: list) -> tuple:
        path, direction, nulls = parts[0], "ASC", None
        for part in parts[1:]:
            if part.type == "DIRECTION":
                direction = part.upper()
            elif part.type == "NULLS_POSITION":
                nulls = part.upper()
        return (path, direction, nulls)

    def order(self, items: list) -> tuple:
        return ("order", items)

    @v_args(inline=True)
    def limit(self, n: Token) -> tuple:
        return ("limit", int(n))

    @v_args(inline=True)
    def offset(self, n: Token) -> tuple:
        return ("offset", int(n))

    def start(self, parts: list) -> _Ast:
        ast = _Ast(obj=str(parts[1]), select=parts[0])
        for part in parts[2:]:
            kind = part[0]
            if kind == "where":
                ast.where = part[1]
            elif kind == "order":
                ast.order = part[1]
            else:
                setattr(ast, kind, part[1])
        return ast


def parse(soql: str) -> _Ast:
    try:
        tree = PARSER.parse(soql)
    except UnexpectedInput as error:
        raise malformed(_position_message(soql, error)) from None
    return _ToAst().transform(tree)


def _position_message(soql: str, error: UnexpectedInput) -> str:
    line_no = getattr(error, "line", 1) or 1
    column = getattr(error, "column", 1) or 1
    if line_no < 0 or column < 0:  # end of input
        lines = soql.splitlines() or [""]
        line_no, column = len(lines), len(lines[-1]) + 1
    line = (soql.splitlines() or [""])[line_no - 1]
    token = getattr(error, "token", None)
    shown = "<EOF>" if token is None or token.type == "$END" else str(token)
    if token is None and hasattr(error, "char"):
        shown = error.char
    return (f"\n{line}\n{' ' * (column - 1)}^\nERROR at Row:{line_no}:Column:{column}\n"
            f"unexpected token: '{shown}'")


# --- compiling -------------------------------------------------------------------------------

def _unescape(raw: str, like: bool) -> str:
    out, i, body = [], 0, raw[1:-1]
    while i < len(body):
        ch = body[i]
        if ch != "\\":
            out.append("\\\\" if like and ch == "\\" else ch)
            i += 1
            continue
        nxt = body[i + 1]
        if nxt in ESCAPES:
            char = ESCAPES[nxt]
            out.append("\\\\" if like and char == "\\" else char)
        elif nxt in "%_" and like:
            out.append("\\" + nxt)
        elif nxt == "u" and len(body) >= i + 6:
            out.append(chr(int(body[i + 2:i + 6], 16)))
            i += 4
        else:
            raise malformed(f"Invalid string literal {raw}. Illegal character sequence "
                            f"'\\{nxt}' in string literal.")
        i += 2
    return "".join(out)


def _day_range(token: str) -> tuple[date, date]:
    today = datetime.now(UTC).date()
    name, _, n = token.upper().partition(":")
    days = int(n) if n else 0
    ranges = {
        "TODAY": (today, today + timedelta(1)),
        "YESTERDAY": (today - timedelta(1), today),
        "TOMORROW": (today + timedelta(1), today + timedelta(2)),
        "LAST_N_DAYS": (today - timedelta(days), today + timedelta(1)),
        "NEXT_N_DAYS": (today + timedelta(1), today + timedelta(days + 1)),
        "N_DAYS_AGO": (today - timedelta(days), today - timedelta(days - 1)),
    }
    return ranges[name]


class Compiler:
    """Checks names against what the API user may see and emits SQL with ``?`` parameters."""

    def __init__(self, store: Store, obj: ObjectDef):
        self.store, self.obj = store, obj
        self.params: list = []
        self.joins: dict[str, str] = {}

    def resolve(self, path: tuple[str, ...]) -> Column:
        visible = self.store.visible_fields(self.obj.name)
        if len(path) == 1:
            found = visible.get(path[0].lower())
            if found is None:
                raise no_such_column(path[0], self.obj.name)
            return Column((found.name,), found, f"t0.{quote(found.name)}")
        if len(path) > 2:
            raise malformed("relationship paths deeper than one level are not supported")
        rel = next((f for f in visible.values() if f.relationship_name
                    and f.relationship_name.lower() == path[0].lower()), None)
        target = self.store.objects.get(rel.reference_to[0]) if rel else None
        if rel is None or target is None:
            raise SalesforceError(
                "INVALID_FIELD",
                f"Didn't understand relationship '{path[0]}' in field path. If you are attempting "
                "to use a custom relationship, be sure to append the '__r' after the custom "
                "relationship name. Please reference your WSDL or the describe call for the "
                "appropriate names.")
        alias = f"j_{rel.relationship_name}"
        self.joins[alias] = (f" LEFT JOIN {quote(target.name)} AS {alias} "
                             f"ON {alias}.Id = t0.{quote(rel.name)}")
        found = self.store.visible_fields(target.name).get(path[1].lower())
        if found is None:
            raise no_such_column(path[1], target.name)
        return Column((rel.relationship_name, found.name), found, f"{alias}.{quote(found.name)}",
                      target.name, f"{alias}.Id")

    # --- WHERE ----------------------------------------------------------------------------

    def condition(self, node: tuple) -> str:
        kind = node[0]
        if kind in ("and", "or"):
            return "(" + f" {kind.upper()} ".join(self.condition(c) for c in node[1]) + ")"
        if kind == "not":
            return f"(NOT {self.condition(node[1])})"
        column = self.resolve(node[1])
        if kind == "cmp":
            return self.compare(column, node[2], node[3])
        if kind == "like":
            return self.like(column, node[2])
        negate = kind == "not_in"
        values = node[2]
        if column.field.is_text and all(v.type == "STRING" for v in values):
            # one IN list, so SQLite can use the index on sf_fold(Email)
            marks = ", ".join(self._param(fold(_unescape(str(v), like=False))) for v in values)
            joined = f"(sf_fold({column.sql}) IN ({marks}))"
        else:
            joined = "(" + " OR ".join(self.compare(column, "=", v) for v in values) + ")"
        if negate:
            return f"({column.sql} IS NULL OR NOT {joined})"
        return joined

    def _param(self, value: object) -> str:
        self.params.append(value)
        return "?"

    def compare(self, column: Column, op: str, token: Token) -> str:
        fd, sql = column.field, column.sql
        if token.type == "NULL":
            if fd.type == "boolean":
                return f"{sql} {'=' if op == '=' else '!='} 0"
            if op not in ("=", "!="):
                raise SalesforceError("INVALID_FIELD", "invalid operator for null value")
            return f"{sql} IS {'' if op == '=' else 'NOT '}NULL"
        if fd.type in ("datetime", "date"):
            return self._compare_moment(column, op, token)
        if fd.type == "boolean":
            if token.type not in ("TRUE", "FALSE"):
                raise self._type_error(fd, "boolean", quoted=False)
            return f"{sql} {op} {self._param(int(token.type == 'TRUE'))}"
        if fd.type in ("double", "int", "currency", "percent"):
            if token.type != "NUMBER":
                raise self._type_error(fd, "double", quoted=False)
            return f"{sql} {op} {self._param(float(token))}"
        if token.type != "STRING":
            raise self._type_error(fd, "string", quoted=True)
        text = _unescape(str(token), like=False)
        if fd.is_id:
            normal = to_18(text)
            if normal is None:
                raise SalesforceError("INVALID_QUERY_FILTER_OPERATOR", f"invalid ID field: {text}")
            expr, value = sql, normal
        else:
            expr, value = f"sf_fold({sql})", fold(text)
        clause = f"{expr} {op} {self._param(value)}"
        # SOQL's != also keeps rows where the field is empty
        return f"({sql} IS NULL OR {clause})" if op == "!=" else clause

    def _compare_moment(self, column: Column, op: str, token: Token) -> str:
        fd, sql = column.field, column.sql
        kind = "dateTime" if fd.type == "datetime" else "date"
        if token.type == "DATE_LITERAL":
            first, last = _day_range(str(token))
            if fd.type == "datetime":
                start = format_datetime(datetime.combine(first, datetime.min.time(), UTC))
                end = format_datetime(datetime.combine(last, datetime.min.time(), UTC))
            else:
                start, end = first.isoformat(), last.isoformat()
            ranges = {"=": f"({sql} >= ? AND {sql} < ?)", "!=": f"({sql} < ? OR {sql} >= ?)",
                      "<": f"{sql} < ?", "<=": f"{sql} < ?", ">": f"{sql} >= ?",
                      ">=": f"{sql} >= ?"}
            values = {"=": [start, end], "!=": [start, end], "<": [start], "<=": [end],
                      ">": [end], ">=": [start]}[op]
            self.params.extend(values)
            return ranges[op]
        if fd.type == "datetime" and token.type == "DATETIME":
            value = format_datetime(parse_datetime(str(token)))
        elif fd.type == "date" and token.type == "DATE":
            value = str(token)
        else:
            raise self._type_error(fd, kind, quoted=False)
        return f"{sql} {op} {self._param(value)}"

    def like(self, column: Column, token: Token) -> str:
        if not column.field.is_text or token.type != "STRING":
            raise SalesforceError("INVALID_QUERY_FILTER_OPERATOR",
                                  f"invalid operator on {column.field.type} field: "
                                  f"{column.field.name}")
        pattern = fold(_unescape(str(token), like=True))
        return f"sf_fold({column.sql}) LIKE {self._param(pattern)} ESCAPE '\\'"

    @staticmethod
    def _type_error(fd: FieldDef, kind: str, quoted: bool) -> SalesforceError:
        how = "should be enclosed in quotes" if quoted else "should not be enclosed in quotes"
        return SalesforceError("INVALID_FIELD",
                               f"value of filter criterion for field '{fd.name}' must be of type "
                               f"{kind} and {how}")

    # --- the whole query ------------------------------------------------------------------

    def order(self, items: list) -> str:
        parts = []
        for path, direction, nulls in items:
            column = self.resolve(path)
            expr = f"sf_fold({column.sql})" if column.field.is_text else column.sql
            nulls = nulls or ("FIRST" if direction == "ASC" else "LAST")
            parts.append(f"{expr} {direction} NULLS {nulls}")
        return " ORDER BY " + ", ".join(parts) if parts else ""


def compile_query(store: Store, soql: str) -> CompiledQuery:
    ast = parse(soql)
    obj = store.object_named(ast.obj)
    if obj is None:
        raise SalesforceError(
            "INVALID_TYPE",
            f"\n{soql}\nERROR at Row:1:Column:1\nsObject type '{ast.obj}' is not supported. If you "
            "are attempting to use a custom object, be sure to append the '__c' after the entity "
            "name. Please reference your WSDL or the describe call for the appropriate names.")
    compiler = Compiler(store, obj)
    count_only = "COUNT()" in ast.select
    if count_only and len(ast.select) > 1:
        raise malformed("COUNT() must be the only element in the SELECT list")
    columns: list[Column] = []
    if not count_only:
        seen = set()
        for path in ast.select:
            column = compiler.resolve(path)
            if column.path not in seen:
                seen.add(column.path)
                columns.append(column)
    where_sql = compiler.condition(ast.where) if ast.where is not None else ""
    order_sql = compiler.order(ast.order)
    return CompiledQuery(obj, columns, count_only,
                         f"{quote(obj.name)} AS t0" + "".join(compiler.joins.values()),
                         where_sql, compiler.params, order_sql, ast.limit, ast.offset)
