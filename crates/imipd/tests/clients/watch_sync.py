"""A python-caldav client following one calendar by sync-collection (RFC 6578).

usage: watch_sync.py CALENDAR_URL USER PASSWORD
Syncs from scratch and prints "ready N" (N objects), then for each line "UID SEQUENCE STATUS"
on stdin polls sync-collection deltas from its last token until an object with that UID,
SEQUENCE ("*": any) and STATUS arrives, and prints "seen UID SEQUENCE STATUS ETAG"; after 30 s without
it, prints "missing ..." with what the deltas held instead, and exits 1.
"""
import sys
import time

import caldav

url, user, password = sys.argv[1:4]
client = caldav.DAVClient(url=url, username=user, password=password)
calendar = client.calendar(url=url)
synced = calendar.get_objects_by_sync_token(load_objects=True, disable_fallback=True)
token = synced.sync_token
print(f"ready {len(list(synced))}", flush=True)


def fields(data):
    """UID, SEQUENCE and STATUS of the first component of an iCalendar text."""
    found = {"UID": "", "SEQUENCE": "0", "STATUS": ""}
    for line in data.replace("\r\n", "\n").split("\n"):
        name, _, value = line.partition(":")
        name = name.split(";")[0].upper()
        if name in found and (name != "UID" or not found["UID"]):
            found[name] = value.strip()
    return found["UID"], found["SEQUENCE"], found["STATUS"]


for line in sys.stdin:
    want = tuple(line.split())
    deadline = time.monotonic() + 30
    seen = []
    while True:
        delta = calendar.get_objects_by_sync_token(
            sync_token=token, load_objects=True, disable_fallback=True
        )
        token = delta.sync_token
        hit = None
        for obj in delta:
            got = fields(obj.data or "")
            seen.append(got)
            if len(want) == 3 and all(w in ("*", g) for w, g in zip(want, got)):
                hit = obj
        if hit is not None:
            print(f"seen {' '.join(want)} {hit.props.get('{DAV:}getetag', '')}", flush=True)
            break
        if time.monotonic() > deadline:
            print(f"missing {' '.join(want)}; the deltas held {seen}", flush=True)
            sys.exit(1)
        time.sleep(0.05)
