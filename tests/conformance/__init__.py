"""Conformance tests: run real qemu-system-x86_64 and ``vnvdimm run`` side by side."""
