"""The ticket search index: one document per ticket, kept current in the writing transaction.

A ticket's document has four parts, by how it ranks and who may match it:

- A: the title;
- B: the description, the object's name and the attachments' file names;
- C: the public comments;
- D: the internal comments (employees only: a customer user's query is
  limited to A–C, so an internal word never matches, excludes or ranks for them).

PostgreSQL: table `ticket_search(ticket_id, document tsvector)` with a GIN
index; the parts are weights A–D of one tsvector, built in SQL with the
configuration `sitedesk_search` (the `german` Snowball stemmer after
`unaccent`, no stop words so both databases index every word).
SQLite: the FTS5 table `ticket_search(title, main, public, internal)`, its
rowid the ticket's id, holding the words folded and stemmed by
`core.search.indexed_text` (the same Snowball stemmer, in Python).

Kept current by the database itself, whoever writes: on PostgreSQL, triggers
rebuild a ticket's document in the statement that changes its title,
description, object, comments, attachments or its object's name; on SQLite,
triggers note the ticket in `ticket_search_pending` in that transaction and
`refresh_pending` rebuilds what is noted (stemming is Python's there) — the
write path calls it before its transaction commits
(`resolvers.tickets.write.record`), a search before it reads (for writers that
bypass the write path). `reindex(connection)` rebuilds every document
(`sitedesk search reindex`, after an upgrade).
"""

from __future__ import annotations

from typing import Any

from core.search import MAX_INDEXED_CHARACTERS, indexed_text

CONFIGURATION = "sitedesk_search"
# The columns of the SQLite index, in the order of the parts A–D.
FTS5_COLUMNS = ("title", "main", "public", "internal")
# PostgreSQL's token types that hold words (the ones `german` stems).
WORD_TOKENS = "asciiword, word, numword, asciihword, hword, numhword, hword_asciipart, hword_part, hword_numpart"


def _ids_sql(ticket_ids: list[int] | None, column: str) -> str:
    # Ids are ints (checked): written into the statement, the same on both engines.
    if ticket_ids is None:
        return "TRUE"
    return f"{column} IN ({', '.join(str(int(pk)) for pk in ticket_ids)})"


def _clean(expression: str) -> str:
    # Only letters and digits reach the parser, cut where the SQLite index cuts
    # (`core.search.indexed_text`): both then see the same words.
    return f"regexp_replace(left({expression}, {MAX_INDEXED_CHARACTERS}), '[^[:alnum:]]+', ' ', 'g')"


def _part(expression: str, weight: str) -> str:
    return f"setweight(to_tsvector('{CONFIGURATION}', {_clean(expression)}), '{weight}')"


def postgres_document_sql(tickets: str, children: str) -> str:
    """INSERT … SELECT of the documents of the tickets where `tickets` holds (on `t.id`; `children` the
    same on `ticket_id`), replacing what is there."""
    main = "t.description || ' ' || o.name || coalesce(' ' || f.names, '')"
    document = " || ".join(
        (
            _part("t.title", "A"),
            _part(main, "B"),
            _part("coalesce(c.public, '')", "C"),
            _part("coalesce(c.internal, '')", "D"),
        )
    )
    return (
        'INSERT INTO "ticket_search" ("ticket_id", "document") '
        f'SELECT t.id, {document} FROM "ticket" t JOIN "site_object" o ON o.id = t.object_id '
        "LEFT JOIN (SELECT ticket_id, "
        "string_agg(body, ' ' ORDER BY id) FILTER (WHERE NOT internal) AS public, "
        "string_agg(body, ' ' ORDER BY id) FILTER (WHERE internal) AS internal "
        f'FROM "comment" WHERE {children} GROUP BY ticket_id) c ON c.ticket_id = t.id '
        "LEFT JOIN (SELECT ticket_id, string_agg(filename, ' ' ORDER BY id) AS names "
        f'FROM "attachment" WHERE {children} GROUP BY ticket_id) f ON f.ticket_id = t.id '
        f"WHERE {tickets} "
        'ON CONFLICT ("ticket_id") DO UPDATE SET "document" = EXCLUDED."document"'
    )


# PostgreSQL: triggers rebuild a ticket's document in the statement that changes its text,
# whoever writes (the write path, an import, a script).
POSTGRES_SCHEMA = (
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    f"CREATE TEXT SEARCH DICTIONARY {CONFIGURATION}_stem (TEMPLATE = snowball, Language = german)",
    f"CREATE TEXT SEARCH CONFIGURATION {CONFIGURATION} (COPY = german)",
    f"ALTER TEXT SEARCH CONFIGURATION {CONFIGURATION} ALTER MAPPING FOR {WORD_TOKENS} "
    f"WITH unaccent, {CONFIGURATION}_stem",
    'CREATE TABLE "ticket_search" ('
    '"ticket_id" INT NOT NULL PRIMARY KEY REFERENCES "ticket" ("id") ON DELETE CASCADE, '
    '"document" TSVECTOR NOT NULL)',
    'CREATE INDEX "idx_ticket_search_document" ON "ticket_search" USING GIN ("document")',
    "CREATE FUNCTION sitedesk_search_refresh(ids INT[]) RETURNS VOID LANGUAGE SQL AS $$ "
    + postgres_document_sql("t.id = ANY(ids)", "ticket_id = ANY(ids)")
    + " $$",
    "CREATE FUNCTION sitedesk_search_ticket() RETURNS TRIGGER LANGUAGE plpgsql AS $$ BEGIN "
    "PERFORM sitedesk_search_refresh(ARRAY[NEW.id]); RETURN NULL; END $$",
    "CREATE FUNCTION sitedesk_search_child() RETURNS TRIGGER LANGUAGE plpgsql AS $$ BEGIN "
    "IF TG_OP <> 'INSERT' THEN PERFORM sitedesk_search_refresh(ARRAY[OLD.ticket_id]); END IF; "
    "IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.ticket_id <> OLD.ticket_id) THEN "
    "PERFORM sitedesk_search_refresh(ARRAY[NEW.ticket_id]); END IF; "
    "RETURN NULL; END $$",
    "CREATE FUNCTION sitedesk_search_object() RETURNS TRIGGER LANGUAGE plpgsql AS $$ BEGIN "
    'PERFORM sitedesk_search_refresh(ARRAY(SELECT id FROM "ticket" WHERE object_id = NEW.id)); '
    "RETURN NULL; END $$",
    'CREATE TRIGGER "ticket_search_ticket" AFTER INSERT OR UPDATE OF title, description, object_id ON "ticket" '
    "FOR EACH ROW EXECUTE FUNCTION sitedesk_search_ticket()",
    'CREATE TRIGGER "ticket_search_comment" AFTER INSERT OR DELETE OR UPDATE OF body, internal, ticket_id '
    'ON "comment" FOR EACH ROW EXECUTE FUNCTION sitedesk_search_child()',
    'CREATE TRIGGER "ticket_search_attachment" AFTER INSERT OR DELETE OR UPDATE OF filename, ticket_id '
    'ON "attachment" FOR EACH ROW EXECUTE FUNCTION sitedesk_search_child()',
    'CREATE TRIGGER "ticket_search_object" AFTER UPDATE OF name ON "site_object" FOR EACH ROW '
    "WHEN (OLD.name IS DISTINCT FROM NEW.name) EXECUTE FUNCTION sitedesk_search_object()",
)
POSTGRES_DROP = (
    'DROP TRIGGER IF EXISTS "ticket_search_ticket" ON "ticket"',
    'DROP TRIGGER IF EXISTS "ticket_search_comment" ON "comment"',
    'DROP TRIGGER IF EXISTS "ticket_search_attachment" ON "attachment"',
    'DROP TRIGGER IF EXISTS "ticket_search_object" ON "site_object"',
    "DROP FUNCTION IF EXISTS sitedesk_search_ticket(), sitedesk_search_child(), sitedesk_search_object()",
    "DROP FUNCTION IF EXISTS sitedesk_search_refresh(INT[])",
    'DROP TABLE IF EXISTS "ticket_search"',
    f"DROP TEXT SEARCH CONFIGURATION IF EXISTS {CONFIGURATION}",
    f"DROP TEXT SEARCH DICTIONARY IF EXISTS {CONFIGURATION}_stem",
)


def _pending(table: str, event: str, ids: tuple[str, ...]) -> str:
    inserts = " ".join(f'INSERT OR IGNORE INTO "ticket_search_pending" VALUES ({pk});' for pk in ids)
    name = f"ticket_search_{table}_{event.split()[0].lower()}"
    return f'CREATE TRIGGER "{name}" AFTER {event} ON "{table}" BEGIN {inserts} END'


# SQLite: stemming runs in Python, so triggers only note which tickets changed
# (`ticket_search_pending`, in the changing transaction); `refresh_pending` rebuilds
# their documents: the write path at once, a search before it reads.
SQLITE_SCHEMA = (
    "CREATE VIRTUAL TABLE \"ticket_search\" USING fts5(title, main, public, internal, tokenize = 'unicode61')",
    'CREATE TABLE "ticket_search_pending" ("ticket_id" INTEGER NOT NULL PRIMARY KEY)',
    _pending("ticket", "INSERT", ("NEW.id",)),
    _pending("ticket", "UPDATE OF title, description, object_id", ("NEW.id",)),
    'CREATE TRIGGER "ticket_search_ticket_delete" AFTER DELETE ON "ticket" BEGIN '
    'DELETE FROM "ticket_search" WHERE rowid = OLD.id; '
    'DELETE FROM "ticket_search_pending" WHERE ticket_id = OLD.id; END',
    _pending("comment", "INSERT", ("NEW.ticket_id",)),
    _pending("comment", "UPDATE OF body, internal, ticket_id", ("OLD.ticket_id", "NEW.ticket_id")),
    _pending("comment", "DELETE", ("OLD.ticket_id",)),
    _pending("attachment", "INSERT", ("NEW.ticket_id",)),
    _pending("attachment", "UPDATE OF filename, ticket_id", ("OLD.ticket_id", "NEW.ticket_id")),
    _pending("attachment", "DELETE", ("OLD.ticket_id",)),
    'CREATE TRIGGER "ticket_search_site_object_update" AFTER UPDATE OF name ON "site_object" BEGIN '
    'INSERT OR IGNORE INTO "ticket_search_pending" SELECT id FROM "ticket" WHERE object_id = NEW.id; END',
)
SQLITE_DROP = tuple(
    f'DROP TRIGGER IF EXISTS "{name}"'
    for name in (
        "ticket_search_ticket_insert",
        "ticket_search_ticket_update",
        "ticket_search_ticket_delete",
        "ticket_search_comment_insert",
        "ticket_search_comment_update",
        "ticket_search_comment_delete",
        "ticket_search_attachment_insert",
        "ticket_search_attachment_update",
        "ticket_search_attachment_delete",
        "ticket_search_site_object_update",
    )
) + ('DROP TABLE IF EXISTS "ticket_search_pending"', 'DROP TABLE IF EXISTS "ticket_search"')


def _dialect(connection: Any) -> str:
    return str(connection.capabilities.dialect)


async def create_index(connection: Any) -> None:
    """Create the index's tables (the migration), empty."""
    for statement in POSTGRES_SCHEMA if _dialect(connection) == "postgres" else SQLITE_SCHEMA:
        await connection.execute_script(statement)


async def drop_index(connection: Any) -> None:
    for statement in POSTGRES_DROP if _dialect(connection) == "postgres" else SQLITE_DROP:
        await connection.execute_script(statement)


async def _sqlite_texts(connection: Any, ticket_ids: list[int]) -> dict[int, list[str]]:
    """The four parts' texts of each ticket, joined the way `postgres_document_sql` joins them (one statement)."""

    def joined(table: str, column: str, condition: str) -> str:
        # group_concat keeps the order of the ordered subquery it reads.
        return (
            f'(SELECT group_concat({column}, char(31)) FROM (SELECT {column} FROM "{table}" '
            f"WHERE ticket_id = t.id{condition} ORDER BY id))"
        )

    rows = await connection.execute_query_dict(
        f"SELECT t.id, t.title, t.description, o.name, {joined('attachment', 'filename', '')} AS names, "
        f"{joined('comment', 'body', ' AND NOT internal')} AS public, "
        f"{joined('comment', 'body', ' AND internal')} AS internal "
        f'FROM "ticket" t JOIN "site_object" o ON o.id = t.object_id WHERE {_ids_sql(ticket_ids, "t.id")}'
    )

    def parts(value: str | None) -> list[str]:
        return value.split("\x1f") if value else []

    texts = {}
    for row in rows:
        main = " ".join([row["description"], row["name"], *parts(row["names"])])
        texts[row["id"]] = [row["title"], main, " ".join(parts(row["public"])), " ".join(parts(row["internal"]))]
    return texts


async def refresh(connection: Any, ticket_ids: list[int]) -> None:
    """Rebuild the documents of `ticket_ids` from their rows, in the caller's transaction."""
    if not ticket_ids:
        return
    if _dialect(connection) == "postgres":
        await connection.execute_query(
            postgres_document_sql(_ids_sql(ticket_ids, "t.id"), _ids_sql(ticket_ids, "ticket_id"))
        )
        return
    texts = await _sqlite_texts(connection, ticket_ids)
    gone = [pk for pk in ticket_ids if pk not in texts]
    if gone:
        await connection.execute_query(f'DELETE FROM "ticket_search" WHERE {_ids_sql(gone, "rowid")}')
    rows = [[pk, *(indexed_text(text) for text in parts)] for pk, parts in texts.items()]
    if rows:
        await connection.execute_many(
            'INSERT OR REPLACE INTO "ticket_search" (rowid, title, main, public, internal) VALUES (?, ?, ?, ?, ?)',
            rows,
        )


async def refresh_pending(connection: Any) -> None:
    """SQLite: rebuild the documents of the tickets the triggers noted as changed (PostgreSQL: nothing to do).

    One statement when none are noted, three when some are.
    """
    if _dialect(connection) == "postgres":
        return
    rows = await connection.execute_query_dict('DELETE FROM "ticket_search_pending" RETURNING ticket_id')
    await refresh(connection, sorted({row["ticket_id"] for row in rows}))


async def reindex(connection: Any, batch: int = 2000) -> int:
    """Rebuild every ticket's document (after an upgrade); returns how many tickets were indexed.

    In batches of `batch` tickets by id, each its own statement(s).
    """
    if _dialect(connection) == "postgres":
        await connection.execute_query('DELETE FROM "ticket_search" WHERE "ticket_id" NOT IN (SELECT id FROM "ticket")')
    else:
        await connection.execute_query('DELETE FROM "ticket_search" WHERE rowid NOT IN (SELECT id FROM "ticket")')
    done = 0
    last = 0
    while True:
        rows = await connection.execute_query_dict(
            f'SELECT id FROM "ticket" WHERE id > {int(last)} ORDER BY id LIMIT {int(batch)}'
        )
        if not rows:
            if _dialect(connection) != "postgres":
                await connection.execute_query('DELETE FROM "ticket_search_pending"')
            return done
        ids = [row["id"] for row in rows]
        await refresh(connection, ids)
        done += len(ids)
        last = ids[-1]
