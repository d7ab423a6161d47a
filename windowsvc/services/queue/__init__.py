"""The task queue: back-office systems fetch, lock and report; push departments."""
