"""vnvdimm.cli."""
