"""Demo data: the agencies, staff, procedures and workflows loaded for `make run` and `MOTCUA_DEMO=1`."""
