"""The archive's full-text index gains the sender (`f:`) and weights per field.

SQLite: the FTS5 table is made again with a third column, `author`, and prefix indexes for
two- and three-letter prefixes (`sanit*`), then rebuilt from the entries.
PostgreSQL: the stored `tsvector` weighs the title A, the text B and the sender C, so a
query can name the field a word must be in (`'patch':A`) and the ranking prefers titles.
"""

from django.db import migrations

SQLITE_FORWARD = [
    "DROP TABLE IF EXISTS channels_archive_fts",
    "CREATE VIRTUAL TABLE channels_archive_fts USING fts5("
    "title, text, author, content='channels_archiveentry', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2', prefix='2 3')",
    "INSERT INTO channels_archive_fts(channels_archive_fts) VALUES ('rebuild')",
]
SQLITE_BACKWARD = [
    "DROP TABLE IF EXISTS channels_archive_fts",
    "CREATE VIRTUAL TABLE channels_archive_fts USING fts5("
    "title, text, content='channels_archiveentry', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2')",
    "INSERT INTO channels_archive_fts(channels_archive_fts) VALUES ('rebuild')",
]
PG_VECTOR = (
    "setweight(to_tsvector('english'::regconfig, title), 'A') || "
    "setweight(to_tsvector('english'::regconfig, text), 'B') || "
    "setweight(to_tsvector('english'::regconfig, author), 'C')"
)
PG_FORWARD = [
    "DROP INDEX IF EXISTS channels_archive_fts",
    "ALTER TABLE channels_archiveentry DROP COLUMN IF EXISTS search_vector",
    f"ALTER TABLE channels_archiveentry ADD COLUMN search_vector tsvector GENERATED ALWAYS AS "
    f"({PG_VECTOR}) STORED",
    "CREATE INDEX channels_archive_fts ON channels_archiveentry USING GIN (search_vector)",
]
PG_BACKWARD = [
    "DROP INDEX IF EXISTS channels_archive_fts",
    "ALTER TABLE channels_archiveentry DROP COLUMN IF EXISTS search_vector",
    "ALTER TABLE channels_archiveentry ADD COLUMN search_vector tsvector GENERATED ALWAYS AS "
    "(to_tsvector('english'::regconfig, title || ' ' || text)) STORED",
    "CREATE INDEX channels_archive_fts ON channels_archiveentry USING GIN (search_vector)",
]


def _run(schema_editor, *, sqlite, postgresql):
    vendor = schema_editor.connection.vendor
    statements = sqlite if vendor == "sqlite" else postgresql if vendor == "postgresql" else []
    for statement in statements:
        schema_editor.execute(statement)


def forward(apps, schema_editor):
    _run(schema_editor, sqlite=SQLITE_FORWARD, postgresql=PG_FORWARD)


def backward(apps, schema_editor):
    _run(schema_editor, sqlite=SQLITE_BACKWARD, postgresql=PG_BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("channels", "0007_archive_threads_import")]
    operations = [migrations.RunPython(forward, backward)]
