"""Values written into a statement's text (publicist.core.sql_plans)."""

from __future__ import annotations

from sqlalchemy import column, create_engine, select, table, text

from publicist.core.sql_plans import literal_limit, text_literal

ROWS = table("rows", column("name"), column("n"))


def test_a_text_literal_is_in_the_text_and_keeps_its_quotes() -> None:
    engine = create_engine("sqlite://")
    with engine.connect() as connection:
        connection.execute(text("CREATE TABLE rows (name TEXT, n INTEGER)"))
        connection.execute(
            text("INSERT INTO rows VALUES ('it''s', 1), ('its', 2), ('x', 3), ('y', 4)")
        )
        statement = select(ROWS.c.n).where(ROWS.c.name == text_literal("it's"))
        assert "'it''s'" in str(statement.compile(engine))
        assert connection.execute(statement).scalars().all() == [1]
        first_two = select(ROWS.c.n).order_by(ROWS.c.n).limit(literal_limit(2))
        assert "LIMIT 2" in str(first_two.compile(engine))
        assert connection.execute(first_two).scalars().all() == [1, 2]
