"""The build engine: what in OUTPUT is up to date, and how the rest is made.

Owns the plan (walk INPUT, name every output), the keys (what an output's bytes depend on), the
state (units, journal, lock; its records packed in memory by records, its stat cache by
stat_cache), the runner (assess, make, finish, remove), the executors (a local
process pool, Dask), merge, verify, replay, the manifest and the dataset card, and holds the
garbage collector while its tables are built (collector). Imports core,
storage and, through the core's registry only, the modalities; never a face (cli, api, report).
"""
