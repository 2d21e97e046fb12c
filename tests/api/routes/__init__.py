"""tests api routes"""
