"""The host bridge service: journal, sinks, local API and the wiring of `electeur run`."""
