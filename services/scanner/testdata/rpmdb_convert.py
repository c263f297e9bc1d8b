"""Converts the headers of an rpm SQLite database into the other rpm database formats.

usage: rpmdb_convert.py SQLITE_DB WAL_DIR BDB_DUMP NDB_FILE

- WAL_DIR/rpmdb.sqlite gets one extra row (a copy of the first header) that stays only in its
  -wal file: the process exits without closing, so sqlite never checkpoints it.
- BDB_DUMP is a db_dump text file for `db5.3_load -f BDB_DUMP Packages` (hash keyed by the
  little-endian hnum, plus rpm's legacy key 0 holding the highest hnum).
- NDB_FILE is written in the format of rpm's lib/backend/ndb/rpmpkg.c.
The blob column of Packages is byte for byte what rpm stores in BDB and NDB: a header without
its 8-byte magic.
"""
import os
import sqlite3
import struct
import sys
import zlib

db, wal_dir, dump_path, ndb_path = sys.argv[1:5]
rows = sqlite3.connect(db).execute("SELECT hnum, blob FROM Packages ORDER BY hnum").fetchall()

with open(dump_path, "w") as f:
    f.write("VERSION=3\nformat=bytevalue\ntype=hash\ndb_pagesize=4096\nHEADER=END\n")
    f.write(" %s\n %s\n" % (struct.pack("<I", 0).hex(), struct.pack("<I", rows[-1][0]).hex()))
    for hnum, blob in rows:
        f.write(" %s\n %s\n" % (struct.pack("<I", hnum).hex(), bytes(blob).hex()))
    f.write("DATA=END\n")

slot_pages = 1
records = b""
slots = b""
blk = slot_pages * 4096 // 16
for idx, (hnum, blob) in enumerate(rows, start=1):
    blob = bytes(blob)
    body = b"BlbS" + struct.pack("<III", idx, 1, len(blob)) + blob
    total = len(body) + 12
    total += (-total) % 16
    body += b"\0" * (total - 12 - len(body))
    body += struct.pack("<II", zlib.adler32(body), len(blob)) + b"BlbE"
    slots += b"Slot" + struct.pack("<III", idx, blk, len(body) // 16)
    blk += len(body) // 16
    records += body
header = b"RpmP" + struct.pack("<IIII", 0, 1, slot_pages, len(rows) + 1) + b"\0" * 12
slot_area = header + slots
while len(slot_area) + 16 <= slot_pages * 4096:
    slot_area += b"Slot" + b"\0" * 12  # free slots carry the magic and blkoff 0, as rpm writes
slot_area += b"\0" * (slot_pages * 4096 - len(slot_area))
with open(ndb_path, "wb") as f:
    f.write(slot_area + records)

con = sqlite3.connect(os.path.join(wal_dir, "rpmdb.sqlite"), isolation_level=None)
con.execute("PRAGMA wal_autocheckpoint=0")
con.execute("INSERT INTO Packages(blob) VALUES (?)", (rows[0][1],))
sys.stdout.flush()
os._exit(0)  # skip sqlite's close-time checkpoint: the row stays in rpmdb.sqlite-wal only
