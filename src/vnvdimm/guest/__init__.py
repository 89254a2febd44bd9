"""What a guest's NVDIMM driver sees and does, through guest-visible interfaces only."""
