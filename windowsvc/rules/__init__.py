"""Pure rules: no Flask, no SQLAlchemy. Each module is one concern with plain-value inputs."""
