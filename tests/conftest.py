pytest_plugins = [
    "tests.support.redis",
    "tests.support.webhook",
    "tests.support.llm",
    "tests.support.api_server",
]
