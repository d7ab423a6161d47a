"""Engine settings per database."""


def test_sqlite_pool_sizes_only_for_database_files():
    from windowsvc.config import engine_options

    assert engine_options("sqlite:////srv/windowsvc/var/windowsvc.db")["pool_size"] >= 16
    for in_memory in ("sqlite://", "sqlite:///:memory:"):  # a static pool takes no sizes
        assert "pool_size" not in engine_options(in_memory)
