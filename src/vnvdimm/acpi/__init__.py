"""vnvdimm.acpi."""
