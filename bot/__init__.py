"""Peerboard: a Discord bot for coordinating volunteer work without a manager."""

__version__ = "0.1.0"
