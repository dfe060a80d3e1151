"""Links to readers: the host end of the wire protocol."""
