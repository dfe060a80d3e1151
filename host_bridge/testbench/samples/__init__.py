"""Realistic sample images of every payload kind, with a manifest of what each one must read as."""
