"""What the host OS gives: aligned guest-RAM mappings, page sizes, file sizes, prealloc.

Everything here mirrors QEMU 7.2's util/mmap-alloc.c, util/oslib-posix.c and
the file helpers of softmmu/physmem.c, including their messages. Linux only
in practice; importing works anywhere.  Submodules are imported where they
are used, to keep start-up cheap.
"""
