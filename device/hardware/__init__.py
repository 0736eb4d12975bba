"""Camera, microphone and controls: small Protocols with real and synthetic adapters."""
