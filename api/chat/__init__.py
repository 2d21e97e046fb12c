"""The OpenAI-compatible face: chat-completions requests read into refinements, results written
back as completions and stream chunks, OpenAI's model list and error shape."""
