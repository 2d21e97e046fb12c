"""The Model Context Protocol face: `refinery mcp`, the engine as tools an agent can call."""
