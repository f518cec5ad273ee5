"""The workflow branch migrates a fresh database to exactly the tables of workflow/tables.py."""

from __future__ import annotations

import sqlalchemy as sa

from qinqing.workflow.tables import metadata


def test_migrated_tables_match_the_declared_ones(engine) -> None:
    inspector = sa.inspect(engine)
    for table in metadata.sorted_tables:
        reflected = {c["name"] for c in inspector.get_columns(table.name)}
        assert reflected == {c.name for c in table.columns}, table.name
