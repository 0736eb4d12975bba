"""VIG Kit: an offline recording kit for Video Interaction Guidance, encrypted at rest."""

__version__ = "0.1.0"

__all__ = ["__version__"]
