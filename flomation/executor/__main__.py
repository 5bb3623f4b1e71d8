from flomation.executor.cli import main

raise SystemExit(main())
