"""Cases (办件): intake, staff actions, stages and steps, clocks, the citizen's view."""
