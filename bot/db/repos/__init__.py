"""Repositories, one per aggregate, each reading and writing within the caller's unit
of work (bot.db.uow): none opens a session, none commits."""
