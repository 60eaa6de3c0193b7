"""Service levels (issue 26): calendars and policies (`configure`), a ticket's clock (`clock`) and
the background check of warnings and breaches (`check`).

Import the modules themselves: the check records history through `resolvers.tickets`, which
computes clocks with `clock` and `configure`, so this package imports none of them.
"""
