"""Adapters: everything outside the engine (calendars, evidence sources, departments, notices)."""
