"""PostgreSQL: the subject and the sender get a stored tsvector and a GIN index of their own.

`s:word` and `f:name` then ask an index whose statistics are about that field alone: with the
field only as a weight in the entry's one vector, the planner judged `f:alice` by how often
"alice" appears anywhere and walked the whole table for a name found in a few hundred posts.
(SQLite: nothing; FTS5's column filters need no more.)
"""

from django.db import migrations

PG_FORWARD = [
    "ALTER TABLE channels_archiveentry ADD COLUMN subject_vector tsvector GENERATED ALWAYS AS "
    "(to_tsvector('english'::regconfig, title)) STORED",
    "ALTER TABLE channels_archiveentry ADD COLUMN author_vector tsvector GENERATED ALWAYS AS "
    "(to_tsvector('english'::regconfig, author)) STORED",
    "CREATE INDEX channels_archive_subject ON channels_archiveentry USING GIN (subject_vector)",
    "CREATE INDEX channels_archive_author ON channels_archiveentry USING GIN (author_vector)",
]
PG_BACKWARD = [
    "DROP INDEX IF EXISTS channels_archive_author",
    "DROP INDEX IF EXISTS channels_archive_subject",
    "ALTER TABLE channels_archiveentry DROP COLUMN IF EXISTS author_vector",
    "ALTER TABLE channels_archiveentry DROP COLUMN IF EXISTS subject_vector",
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
    dependencies = [("channels", "0008_archive_search_author")]
    operations = [migrations.RunPython(forward, backward)]
