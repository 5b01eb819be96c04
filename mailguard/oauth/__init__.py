"""OAuth2 for IMAP and the relay: token providers behind one interface, and SASL encoding."""
