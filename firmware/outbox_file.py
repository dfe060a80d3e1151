# The outbox on flash: reads waiting for the host's ACK survive a power cut and are resent after boot with
# their original seq, reader id and capture time (the host drops what it already has).
#
# The file is the waiting READs as wire frames (firmware/protocol.py: COBS, CRC-32 each), oldest first.
# It is rewritten whole when the outbox changes (a read added, reads acknowledged: one write per change,
# batched per poll) into PATH.tmp, then renamed over PATH; an empty outbox removes the file. A torn or
# corrupt record fails its CRC and is skipped with a message; the intact records are kept.
import os

from firmware import protocol as P

PATH = "/outbox.bin"
CHUNK = 512                                     # read in small pieces: the heap never holds the whole file


def _remove(path):
    try:
        os.remove(path)
    except OSError:
        pass


def save(outbox, path=PATH):
    """Write the outbox's waiting reads atomically (temp + rename); remove the file when none wait."""
    if not len(outbox):
        _remove(path)
        _remove(path + ".tmp")
        return
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        for seq, reader, data, fmt, engine, captured in outbox.records():
            f.write(P.read(reader, seq, data, fmt, engine, captured))
    try:
        os.rename(tmp, path)
    except OSError:                              # FAT cannot rename over a file: remove it first
        _remove(path)
        os.rename(tmp, path)


def load(outbox, path=PATH):
    """Restore the waiting reads into `outbox` (as already sent); a list of problems, empty when all is well.

    PATH.tmp is used only when PATH is missing (a power cut between FAT's remove and rename)."""
    errors = []
    for p in (path, path + ".tmp"):
        try:
            f = open(p, "rb")
        except OSError:
            continue
        dec = P.Decoder()
        kept = 0
        with f:
            while True:
                chunk = f.read(CHUNK)
                if not chunk:
                    break
                for msg in dec.feed(chunk):
                    kept += _restore(outbox, msg, errors)
        bad = sum(dec.errors.values())
        if dec.partial():
            bad += 1                             # a last record without its delimiter: torn write
        if bad:
            errors.append("%s: %d damaged record(s) skipped, %d read(s) restored" % (p, bad, kept))
        break
    return errors


def _restore(outbox, msg, errors):
    if msg.type != P.READ:
        errors.append("outbox file: unexpected %s record skipped" % msg.name)
        return 0
    try:
        data, meta = P.parse_read(msg)
    except P.ProtocolError as exc:
        errors.append("outbox file: %s" % exc)
        return 0
    if msg.seq in outbox:
        return 0
    outbox.add(msg.seq, data, meta["format"], meta["engine"], meta["captured_ms"], msg.reader, True)
    return 1
