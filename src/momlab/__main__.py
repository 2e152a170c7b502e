from momlab.cli import main

raise SystemExit(main())
