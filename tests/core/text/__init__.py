"""tests core text"""
