"""Adapter: the SMTP proxy the helpdesk sends through, and the pooled upstream relay.

``server`` (the listener on the daemon's loop: TLS, AUTH, allowed networks, limits),
``session`` (aiosmtpd's session with a DATA that does not stall the loop), ``handler`` (the
thin handler that asks the engine and maps outcomes to replies), ``replies`` (the replies by
name), ``relay`` (pooled aiosmtplib client, reusable by any sender), ``rewrite`` (handover
rewrite and divert), ``held`` (releasing and dropping held mail, once).
"""
