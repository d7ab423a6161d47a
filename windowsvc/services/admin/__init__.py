"""Administration: credentials, the catalog, the timers (sweep)."""
