#!/usr/bin/env python3
"""sync-collection (RFC 6578) delta of one change, on any CalDAV server: reads the calendar's
DAV:sync-token, changes one object (PUT), then times the sync-collection REPORT from that token
(median of 20; each answers the same one change).
usage: sync-delta.py BASE_URL CALENDAR_PATH USER PASSWORD HREF"""
import base64, http.client, re, statistics, sys, time, urllib.parse
from xml.sax.saxutils import escape

base, calpath, user, pw, href = sys.argv[1:6]
u = urllib.parse.urlparse(base)
auth = "Basic " + base64.b64encode(f"{user}:{pw}".encode()).decode()


def req(method, path, body=b"", headers=None):
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
    h = {"Authorization": auth}
    h.update(headers or {})
    c.request(method, path, body=body, headers=h)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, data


s, data = req("PROPFIND", calpath, b'<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop>'
              b'<D:sync-token/></D:prop></D:propfind>', {"Depth": "0", "Content-Type": "application/xml"})
m = re.search(rb"sync-token>([^<]+)<", data)
if s != 207 or not m:
    sys.exit(f"PROPFIND sync-token -> {s}: {data[:300]!r}")
token = m.group(1).decode()
s, data = req("GET", href)
if s != 200:
    sys.exit(f"GET {href} -> {s}")
changed = re.sub(rb"SUMMARY:[^\r\n]*", b"SUMMARY:changed once", data, count=1)
s, _ = req("PUT", href, changed, {"Content-Type": "text/calendar"})
if s not in (200, 201, 204):
    sys.exit(f"PUT {href} -> {s}")
body = (f'<?xml version="1.0" encoding="utf-8"?><D:sync-collection xmlns:D="DAV:">'
        f"<D:sync-token>{escape(token)}</D:sync-token><D:sync-level>1</D:sync-level>"
        f"<D:prop><D:getetag/></D:prop></D:sync-collection>").encode()
ts = []
for _ in range(20):
    t = time.perf_counter()
    s, data = req("REPORT", calpath, body, {"Depth": "1", "Content-Type": "application/xml"})
    ts.append(time.perf_counter() - t)
    if s != 207:
        sys.exit(f"sync-collection -> {s}: {data[:300]!r}")
hits = len(re.findall(rb"<(?:\w+:)?response>", data))
print(f"sync-collection delta of one change: median {statistics.median(ts)*1000:.1f} ms over 20 "
      f"(responses {hits}, {len(data)} bytes)")
