"""The email channel's mail room (issue 27): reply tokens, reading received messages, their new text.

Pure functions over the standard library's `email` package; what a message causes (a comment, a
ticket, a bounce) is decided in `resolvers/inbound_mail.py`, and the SMTP receiver lives in
`server/inbound_mail.py`.
"""
