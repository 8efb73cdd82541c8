"""Discord adapters: ui."""
