"""vnvdimm.guest."""
