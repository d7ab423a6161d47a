"""Pages for people: server-rendered Jinja, one blueprint per audience, on the same services."""
