"""The working-day calendar as services see it; notices and the recount."""
