"""OAuth2 test peers: token minting, a local HTTPS token endpoint, an Exchange-like IMAP proxy."""
