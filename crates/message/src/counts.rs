//! Parse counters, with the `parse-counts` feature: a test delivers a message and checks
//! how many times its bytes were parsed (MIME by [`crate::MessageView`], calendar data by
//! the calendar core). Without the feature the counting compiles to nothing.

/// Parses so far in this process.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Whole-message MIME parses.
    pub mime: usize,
    /// Calendar objects parsed: messages' calendar parts and stored copies.
    pub calendar: usize,
}

#[cfg(feature = "parse-counts")]
static MIME: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

pub(crate) fn mime_parsed() {
    #[cfg(feature = "parse-counts")]
    MIME.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
}

#[cfg(feature = "parse-counts")]
pub fn snapshot() -> Counts {
    Counts {
        mime: MIME.load(std::sync::atomic::Ordering::Relaxed),
        calendar: imipd_calendar::parses(),
    }
}

#[cfg(feature = "parse-counts")]
impl std::ops::Sub for Counts {
    type Output = Counts;
    fn sub(self, earlier: Counts) -> Counts {
        Counts {
            mime: self.mime - earlier.mime,
            calendar: self.calendar - earlier.calendar,
        }
    }
}
