"""tests core feedback"""
