"""`python -m vnvdimm` is the `vnvdimm` command."""

from vnvdimm.cli.main import main

raise SystemExit(main())
