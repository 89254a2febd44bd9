"""Interop tests: boot a real Linux guest under real QEMU and compare what it sees."""
