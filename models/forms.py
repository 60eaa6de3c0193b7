"""Inspection forms: templates, their versions, and filled-in submissions."""

from __future__ import annotations
