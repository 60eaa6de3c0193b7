"""The email channel (issue 27): a received message becomes a comment, a ticket or a bounce mark.

`receive_message` is the one entry point; the SMTP receiver and `sitedesk mail-in`
(`server/inbound_mail.py`) both hand it the raw bytes. `administration` holds the mutations
around it (intake addresses, a customer's mail ticket type, clearing a bouncing address).
"""

from resolvers.inbound_mail.outcome import Received
from resolvers.inbound_mail.receive import receive_message

__all__ = ["Received", "receive_message"]
