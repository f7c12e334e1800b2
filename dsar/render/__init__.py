"""Letter -> bytes: PDF (WeasyPrint), e-mail (RFC 5322) and plain text."""
