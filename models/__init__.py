"""Tortoise models (data and constraints only) and their migrations."""
