"""电子监察: warnings and cards, indicators, the lifecycle record, access records."""
