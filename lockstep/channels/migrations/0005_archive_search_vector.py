"""PostgreSQL: keep each entry's tsvector in a stored generated column, indexed by GIN, so a
search ranks stored vectors instead of re-parsing every matching text (SQLite: nothing)."""

from django.db import migrations

PG_FORWARD = [
    "DROP INDEX IF EXISTS channels_archive_fts",
    "ALTER TABLE channels_archiveentry ADD COLUMN search_vector tsvector GENERATED ALWAYS AS "
    "(to_tsvector('english'::regconfig, title || ' ' || text)) STORED",
    "CREATE INDEX channels_archive_fts ON channels_archiveentry USING GIN (search_vector)",
]
PG_BACKWARD = [
    "DROP INDEX IF EXISTS channels_archive_fts",
    "ALTER TABLE channels_archiveentry DROP COLUMN IF EXISTS search_vector",
    "CREATE INDEX channels_archive_fts ON channels_archiveentry USING GIN "
    "(to_tsvector('english'::regconfig, title || ' ' || text))",
]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in PG_FORWARD:
            schema_editor.execute(statement)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in PG_BACKWARD:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("channels", "0004_archive_search")]
    operations = [migrations.RunPython(forward, backward)]
