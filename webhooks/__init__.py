"""Webhooks: addresses a delivery may go to, Standard Webhooks signing, the outbox and its sender.

Sits beside `mail/` in the layers: it reads and writes models and queues mail, and knows nothing
of permissions, resolvers or the schema. What a delivery says is built by a function handed to
the sender (`server/webhooks.py` runs a fixed GraphQL selection as the webhook's account).
"""
