"""Pipeline configuration, the registry of step and reader names, and the Dask runner."""
