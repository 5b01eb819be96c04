"""The project's own throw-away Dovecot: scripts, config template and the pytest fixture."""
