"""filters stage of gristmill (see DESIGN.md)."""
