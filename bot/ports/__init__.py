"""Ports: the small interfaces the services need from the outside world."""
