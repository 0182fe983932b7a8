"""dedupe stage of gristmill (see DESIGN.md)."""
