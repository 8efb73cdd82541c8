"""Use cases. One call = one unit of work = one transaction. Never imports discord."""
