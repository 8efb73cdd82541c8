"""Scheduled sweeps: ask services what is due, deliver through the Notifier. Never imports discord."""
