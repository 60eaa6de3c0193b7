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


class Thumbnail(Model):
    """A WebP thumbnail of a stored image at one size, made once and kept in the files backend.

    `source_key` is the storage key of the image (content-addressed, so one thumbnail serves every
    attachment with those bytes); `storage_key` the thumbnail's own (files/images.py).
    """

    id = fields.IntField(primary_key=True)
    source_key = fields.CharField(max_length=100)
    size = fields.IntField()
    storage_key = fields.CharField(max_length=100)
    width = fields.IntField()
    height = fields.IntField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "thumbnail"
        unique_together = (("source_key", "size"),)
        indexes = (("storage_key",),)
