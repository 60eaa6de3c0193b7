"""Live updates: the change feed behind `subscription { ticketChanges }`.

`live.hub` announces each history entry in the writing transaction
(`announce`, called by `resolvers.tickets.write.record`) and fans committed
entries out to the subscriptions of this process (`HUB`): on PostgreSQL
through `LISTEN/NOTIFY` (ids only, loaded by each process), on SQLite by
reading `ticket_event` by id. Authorising each entry for each subscriber is
the resolvers' job (`resolvers.tickets.live`), never this package's.
"""
