"""Full-text search over the public archive: FTS5 on SQLite, a GIN index on PostgreSQL."""

from django.db import migrations

SQLITE_CREATE = (
    "CREATE VIRTUAL TABLE channels_archive_fts USING fts5("
    "title, text, content='channels_archiveentry', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2')"
)
SQLITE_DROP = "DROP TABLE IF EXISTS channels_archive_fts"
PG_CREATE = (
    "CREATE INDEX channels_archive_fts ON channels_archiveentry USING GIN "
    "(to_tsvector('english'::regconfig, title || ' ' || text))"
)
PG_DROP = "DROP INDEX IF EXISTS channels_archive_fts"


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(SQLITE_CREATE)
    elif vendor == "postgresql":
        schema_editor.execute(PG_CREATE)


def drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(SQLITE_DROP)
    elif vendor == "postgresql":
        schema_editor.execute(PG_DROP)


class Migration(migrations.Migration):
    dependencies = [("channels", "0003_archive_entry")]
    operations = [migrations.RunPython(create, drop)]
