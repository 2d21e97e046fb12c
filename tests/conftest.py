"""Test-wide set-up: every library stays off the network; fixtures come from tests/support."""

import os

for _name, _value in {
    "RAGAS_DO_NOT_TRACK": "true",
    "LANGGRAPH_CLI_NO_ANALYTICS": "1",
    "LANGGRAPH_NO_VERSION_CHECK": "1",
    "LANGSMITH_TEST_TRACKING": "false",
    "LANGSMITH_TRACING": "false",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "TOKENIZERS_PARALLELISM": "false",
}.items():
    os.environ.setdefault(_name, _value)

pytest_plugins = [
    "tests.support.redis",
    "tests.support.webhook",
    "tests.support.llm",
    "tests.support.api_server",
]
