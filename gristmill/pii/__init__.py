"""pii stage of gristmill (see DESIGN.md)."""
