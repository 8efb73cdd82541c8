"""Storage: SQLModel tables, the engine, and the unit of work. The only place with SQL."""
