"""Documents per object: which attachments of which ticket types a customer publishes."""

from __future__ import annotations
