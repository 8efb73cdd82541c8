"""Discord adapters: cogs."""
