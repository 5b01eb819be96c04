"""IMAP adapter: the watcher of guarded mailboxes and the mailbox side of outbox actions."""
