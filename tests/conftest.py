pytest_plugins = ["tests.support.redis"]
