"""The mail outbox: every notification, written with the change that caused it."""

from __future__ import annotations
