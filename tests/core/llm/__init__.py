"""tests core llm"""
