"""The seeds' code made runnable, one module per `pf bench` workload (see ../bench.py)."""
