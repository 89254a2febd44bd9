"""vnvdimm.devices."""
