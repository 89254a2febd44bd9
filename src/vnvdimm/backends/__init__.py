"""vnvdimm.backends."""
