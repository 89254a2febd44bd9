"""vnvdimm.monitor."""
