"""On PostgreSQL a prefix LIKE uses a btree only with the pattern operator class (unless the
database collation is C); SQLite's LIKE is case-insensitive, so Django's startswith uses GLOB
there, which uses the ordinary index."""

from django.db import migrations


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX regions_region_path_like ON regions_region (path varchar_pattern_ops);")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS regions_region_path_like;")


class Migration(migrations.Migration):
    dependencies = [("regions", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
