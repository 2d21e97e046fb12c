"""tests api cli"""
