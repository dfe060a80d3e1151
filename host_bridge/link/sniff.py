"""What a port that does not speak the framed protocol is saying, and what the pharmacist should do about it.

A reader in `line` mode sends each read as a text line; a board without the e-lecteur firmware shows the
MicroPython prompt; anything else (a wrong baud rate, another device) is bytes that never make a valid frame.
The bridge would otherwise show such a port as "connecté" with 0 reads forever.
"""

from __future__ import annotations

SAMPLE = 512   # bytes kept from a port that has not sent one valid frame yet

TO_FRAMED = ("arrêtez electeur run, puis passez-le en mode framed : electeur deploy --board CARTE --port {port} "
             "--output framed (ou \"output\": \"framed\" dans son config.json)")


def foreign(sample: bytes, port: str) -> str | None:
    """A French sentence naming what speaks on `port` and what to do, or None while `sample` proves nothing.

    `sample` is what the port sent before any valid frame."""
    if b">>>" in sample or b"MicroPython v" in sample or b"raw REPL" in sample:
        return (f"{port} : carte MicroPython sans le firmware e-lecteur (invite >>>) : installez-le avec "
                f"electeur deploy --board CARTE --port {port} --output framed")
    if b"\n" in sample:
        text = sample.decode("utf-8", "replace")
        readable = sum(c.isprintable() or c in "\r\n\t\x1d" for c in text)
        if readable >= 0.9 * len(text):
            return f"{port} : lecteur en mode ligne (une lecture par ligne de texte) : " + TO_FRAMED.format(port=port)
    if len(sample) >= SAMPLE:
        return (f"{port} : l'appareil n'envoie pas le protocole framed d'e-lecteur (autre appareil, ou vitesse autre "
                "que 115200 bauds ?) : vérifiez le port, puis " + TO_FRAMED.format(port=port))
    return None


def silent(port: str, seconds: float) -> str:
    """What a port that sent nothing may be: a framed reader sends its heartbeat every 5 s (unless turned off);
    one in line mode says nothing until it reads a code."""
    return (f"{port} : rien reçu depuis {seconds:g} s (un lecteur en mode framed envoie un signal toutes les 5 s) : "
            "présentez-lui un code ; s'il est en mode ligne ou hid, " + TO_FRAMED.format(port=port))
