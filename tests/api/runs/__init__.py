"""tests api runs"""
