"""tests core checkpoint"""
