//! `GET /events`: a Server-Sent Events stream of the signed-in user's calendar changes, so
//! an open page refreshes the moment anything writes: the worker, the command line in
//! another process, later CalDAV and the web page. The stream reads the store's change
//! feed, not a channel of this process. Each event's `id:` is its position in the feed: a
//! page that reconnects with `Last-Event-ID` is sent what it missed. Signed in with HTTP
//! Basic (see [`super::auth`]).

use super::Body;
use super::auth::Authenticator;
use bytes::Bytes;
use futures_util::stream;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::{Request, Response, header};
use imipd_store::{FeedEntry, JobNotice, Store};
use std::collections::VecDeque;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::Notify;
use tokio::sync::broadcast::{self, error::RecvError};
use tracing::warn;

/// A comment line this often keeps proxies from closing an idle stream.
const KEEPALIVE: Duration = Duration::from_secs(25);
/// How often the feed is read for changes: the longest a page waits for one.
const POLL: Duration = Duration::from_millis(250);
/// Feed entries read at once.
const BATCH: usize = 256;
/// A reconnecting page that missed more than this is told to reload instead.
const MAX_BACKLOG: usize = 4096;

/// The change feed (and, for the web page, the job feed) as this process follows it: read
/// once, for every open stream, and only while a stream is open.
#[derive(Clone)]
pub struct Feed {
    store: Arc<dyn Store>,
    entries: broadcast::Sender<Arc<FeedEntry>>,
    /// The job feed, for the web page only (`/events` is about calendars).
    jobs: broadcast::Sender<Arc<JobNotice>>,
    wanted: Arc<Mutex<Wanted>>,
    wake: Arc<Notify>,
}

/// Where the idle reader must start when a stream opens: no later than any new stream's
/// starting point, or nothing is lost between the stream's read of the feed and the reader's.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Wanted {
    Nothing,
    /// A stream could not read its starting point (it told its page to reload).
    Head,
    From(i64),
}

impl Wanted {
    fn and(self, other: Wanted) -> Wanted {
        match (self, other) {
            (Wanted::From(a), Wanted::From(b)) => Wanted::From(a.min(b)),
            (Wanted::From(a), _) | (_, Wanted::From(a)) => Wanted::From(a),
            (Wanted::Head, _) | (_, Wanted::Head) => Wanted::Head,
            _ => Wanted::Nothing,
        }
    }
}

impl Feed {
    /// Starts the reader; it reads the store's feed whenever a stream is open.
    pub fn follow(store: Arc<dyn Store>) -> Feed {
        let (entries, _) = broadcast::channel(1024);
        let (jobs, _) = broadcast::channel(1024);
        let feed = Feed {
            store,
            entries,
            jobs,
            wanted: Arc::new(Mutex::new(Wanted::Nothing)),
            wake: Arc::new(Notify::new()),
        };
        tokio::spawn(read_feed(feed.clone()));
        feed
    }

    /// A stream that subscribed has read the feed up to `from` (`None`: it could not).
    fn listening_from(&self, from: Option<i64>) {
        let asked = from.map_or(Wanted::Head, Wanted::From);
        let mut wanted = self.wanted.lock().unwrap_or_else(|p| p.into_inner());
        *wanted = wanted.and(asked);
        drop(wanted);
        self.wake.notify_one();
    }

    /// Waits, idle, until a stream opens; returns where to read from (`None`: the head).
    async fn stream_opened(&self) -> Option<i64> {
        loop {
            self.wake.notified().await;
            let mut wanted = self.wanted.lock().unwrap_or_else(|p| p.into_inner());
            match std::mem::replace(&mut *wanted, Wanted::Nothing) {
                Wanted::Nothing => {}
                Wanted::Head => return None,
                Wanted::From(seq) => return Some(seq),
            }
        }
    }
}

impl imipd_web::Live for Feed {
    /// The web page's stream hears changes from when it subscribes (the page it refreshes
    /// was rendered just before), so the idle reader starts at the feed's head.
    fn subscribe(&self) -> imipd_web::Listening {
        let listening = imipd_web::Listening {
            changes: self.entries.subscribe(),
            jobs: self.jobs.subscribe(),
        };
        self.listening_from(None);
        listening
    }
}

async fn read_feed(feed: Feed) {
    let mut cursor = None;
    let mut jobs_cursor = None;
    let mut failing = false;
    loop {
        if feed.entries.receiver_count() == 0 {
            cursor = feed.stream_opened().await;
            jobs_cursor = None;
        } else {
            // An open stream's starting point is at or after the cursor already.
            *feed.wanted.lock().unwrap_or_else(|p| p.into_inner()) = Wanted::Nothing;
        }
        let read = match cursor {
            Some(seq) => blocking(&feed.store, move |s| s.feed_since(seq, BATCH)).await,
            None => blocking(&feed.store, |s| s.feed_head()).await.map(|head| {
                cursor = Some(head);
                Vec::new()
            }),
        };
        let jobs_read = read_jobs(&feed, &mut jobs_cursor).await;
        match read.and_then(|entries| Ok((entries, jobs_read?))) {
            Ok((entries, jobs_full)) => {
                failing = false;
                let full = entries.len() == BATCH;
                for entry in entries {
                    cursor = Some(entry.seq);
                    let _ = feed.entries.send(Arc::new(entry));
                }
                if full || jobs_full {
                    continue;
                }
            }
            Err(e) if !failing => {
                failing = true;
                warn!("push: cannot read the change feed: {e}; retrying");
            }
            Err(_) => {}
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Reads the job feed on from `cursor` (`None`: from its head, now) while a web page
/// listens; whether a whole batch came (there may be more).
async fn read_jobs(feed: &Feed, cursor: &mut Option<i64>) -> Result<bool, String> {
    if feed.jobs.receiver_count() == 0 {
        *cursor = None;
        return Ok(false);
    }
    let Some(seq) = *cursor else {
        *cursor = Some(blocking(&feed.store, |s| s.job_feed_head()).await?);
        return Ok(false);
    };
    let notices = blocking(&feed.store, move |s| s.job_feed_since(seq, BATCH)).await?;
    let full = notices.len() == BATCH;
    for notice in notices {
        *cursor = Some(notice.seq);
        let _ = feed.jobs.send(Arc::new(notice));
    }
    Ok(full)
}

pub async fn stream(
    req: &Request<Incoming>,
    peer: SocketAddr,
    auth: &Authenticator,
    feed: &Feed,
) -> Response<Body> {
    // Subscribe before reading where to start, so no change between the two is missed.
    let receiver = feed.entries.subscribe();
    let user = match auth.authenticate(req.headers(), peer.ip()).await {
        Ok(user) => user,
        Err(denied) => return denied.response(),
    };
    let resume = req
        .headers()
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok());
    let mut state = Stream {
        receiver,
        user,
        last: 0,
        pending: VecDeque::new(),
    };
    state
        .pending
        .push_back(format!(": changes to the calendars of {}\n\n", state.user));
    state.start(feed, resume).await;
    let changes = stream::unfold(state, |mut state| async move {
        let text = state.next().await?;
        Some((Ok::<_, Infallible>(Frame::data(Bytes::from(text))), state))
    });
    let mut response = Response::new(StreamBody::new(changes).boxed());
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/event-stream"),
    );
    h.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-cache"),
    );
    response
}

/// One open stream: the feed position it has sent up to, and what is waiting to go.
struct Stream {
    receiver: broadcast::Receiver<Arc<FeedEntry>>,
    user: String,
    last: i64,
    pending: VecDeque<String>,
}

impl Stream {
    /// Starts at the newest change, or where a reconnecting page left off, sending what it
    /// missed from the store.
    async fn start(&mut self, feed: &Feed, resume: Option<i64>) {
        let store = &feed.store;
        let head = blocking(store, |s| s.feed_head()).await;
        feed.listening_from(head.as_ref().ok().copied());
        let head = match head {
            Ok(head) => head,
            Err(e) => {
                warn!("push: cannot read the change feed: {e}");
                self.pending.push_back(resync());
                return;
            }
        };
        self.last = head;
        let Some(from) = resume.filter(|&r| r < head) else {
            if resume.is_some_and(|r| r > head) {
                // A position the feed never reached: another database now.
                self.pending.push_back(resync());
            }
            return;
        };
        let mut seq = from.max(0);
        let mut read = 0;
        while seq < head {
            let batch = match blocking(store, move |s| s.feed_since(seq, BATCH)).await {
                Ok(batch) if !batch.is_empty() => batch,
                _ => break,
            };
            read += batch.len();
            if read > MAX_BACKLOG {
                self.pending.clear();
                self.pending.push_back(resync());
                return;
            }
            for entry in batch {
                seq = entry.seq;
                if entry.seq <= head && entry.user == self.user {
                    self.pending.push_back(event(&entry));
                }
            }
        }
    }

    /// The next text to send; `None` ends the stream.
    async fn next(&mut self) -> Option<String> {
        if let Some(text) = self.pending.pop_front() {
            return Some(text);
        }
        loop {
            let next = tokio::time::timeout(KEEPALIVE, self.receiver.recv()).await;
            match next {
                Err(_) => return Some(": keepalive\n\n".to_string()),
                Ok(Ok(entry)) if entry.seq > self.last => {
                    self.last = entry.seq;
                    if entry.user == self.user {
                        return Some(event(&entry));
                    }
                }
                Ok(Ok(_)) => {}
                // Too slow to keep up: tell the page to reload everything.
                Ok(Err(RecvError::Lagged(_))) => return Some(resync()),
                Ok(Err(RecvError::Closed)) => return None,
            }
        }
    }
}

/// One change as an SSE event: `calendar` for an object, `collection` for the calendar.
fn event(entry: &FeedEntry) -> String {
    let (kind, data) = match &entry.href {
        Some(href) => (
            "calendar",
            serde_json::json!({
                "calendar": entry.calendar_id,
                "href": href,
                "uid": entry.uid,
                "deleted": entry.deleted,
            }),
        ),
        None => (
            "collection",
            serde_json::json!({"calendar": entry.calendar_id, "deleted": entry.deleted}),
        ),
    };
    format!("id: {}\nevent: {kind}\ndata: {data}\n\n", entry.seq)
}

fn resync() -> String {
    "event: resync\ndata: {}\n\n".to_string()
}

async fn blocking<T: Send + 'static>(
    store: &Arc<dyn Store>,
    call: impl FnOnce(&dyn Store) -> imipd_store::Result<T> + Send + 'static,
) -> Result<T, String> {
    let store = store.clone();
    match tokio::task::spawn_blocking(move || call(&*store)).await {
        Ok(result) => result.map_err(|e| e.to_string()),
        Err(e) => Err(format!("store thread failed: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::Wanted::{From, Head, Nothing};

    #[test]
    fn the_idle_reader_starts_at_the_earliest_point_any_new_stream_read() {
        assert_eq!(Nothing.and(From(7)), From(7));
        assert_eq!(From(7).and(From(3)), From(3));
        assert_eq!(From(3).and(Head), From(3));
        assert_eq!(Nothing.and(Head), Head);
        assert_eq!(Nothing.and(Nothing), Nothing);
    }
}
