"""好差评: ratings, the rectification loop, rating indicators."""
