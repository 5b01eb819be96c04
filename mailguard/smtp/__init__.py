"""Adapter: the SMTP proxy the helpdesk sends through, and the pooled upstream relay.

``relay`` (pooled aiosmtplib client, reusable by any sender), ``handler`` (the thin aiosmtpd
handler that asks the engine and maps outcomes to replies), ``rewrite`` (handover rewrite and
divert), ``server`` (listener on the daemon's loop: TLS, AUTH, allowed networks, limits),
``held`` (listing, releasing and dropping held mail).
"""
