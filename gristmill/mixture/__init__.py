"""mixture stage of gristmill (see DESIGN.md)."""
