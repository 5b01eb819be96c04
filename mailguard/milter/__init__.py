"""Adapter: the milter through which Postfix (or Sendmail) hands mailguard its outgoing mail.

``connection`` (one MTA connection: the milter protocol of ``kilter.protocol`` on the
daemon's event loop), ``handler`` (the judge: which mail is the guarded mailboxes', the
engine's decision, the milter reply), ``edits`` (rewrite and divert as header, body and
recipient edits), ``server`` (the ``inet:``/``unix:`` listener). It builds on the SMTP
adapter's dispatcher and relay (:mod:`mailguard.smtp.dispatch`): one decision, one relay.
"""
