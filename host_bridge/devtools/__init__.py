"""Prototyper tools: board profiles, flashing, deploying the firmware, self-test, optics."""
