"""ePU (e-Prescription Unifiée): the sandbox stand-in for the tele-service and the bridge's client."""
