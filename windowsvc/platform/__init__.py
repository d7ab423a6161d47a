"""Plumbing every feature uses: app context, errors, paging, outbox, wake-ups, health."""
