"""e-lecteur host bridge: decode, classify, journal and deliver 2D-code reads for the pharmacy software."""

__version__ = "0.1.0"
