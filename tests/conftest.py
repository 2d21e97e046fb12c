pytest_plugins = ["tests.support.redis", "tests.support.webhook"]
