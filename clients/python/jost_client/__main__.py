"""python -m jost_client: the `jost` command line."""

from jost_client.cli import main

raise SystemExit(main())
