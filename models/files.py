"""Stored files in flight: which storage keys requests are still about to reference (files/uploads.py)."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class FileClaim(Model):
    """One row per storage key ever stored, counting the requests in flight with it.

    `in_flight`: requests that stored the key and have not yet committed or given up. Its row
    lock orders a store against a clean-up (files/uploads.py).
    """

    storage_key = fields.CharField(max_length=100, primary_key=True)
    in_flight = fields.IntField(default=0)

    class Meta:
        table = "file_claim"
