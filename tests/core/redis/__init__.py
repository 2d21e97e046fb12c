"""tests core redis"""
