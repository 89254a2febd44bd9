"""vnvdimm.machine."""
