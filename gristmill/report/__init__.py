"""report stage of gristmill (see DESIGN.md)."""
