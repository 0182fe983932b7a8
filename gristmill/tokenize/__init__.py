"""tokenize stage of gristmill (see DESIGN.md)."""
