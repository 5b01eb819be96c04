"""The outbox executor: performs the actions the engine decided, through the mail adapters."""
