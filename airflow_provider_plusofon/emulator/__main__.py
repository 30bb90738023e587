from airflow_provider_plusofon.emulator.cli import main

raise SystemExit(main())
