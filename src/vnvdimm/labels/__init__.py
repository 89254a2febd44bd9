"""vnvdimm.labels."""
