/// Bounds on the work done for one calendar object: calendar data is hostile input.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest calendar part accepted, in bytes (decoded).
    pub max_part_bytes: usize,
    /// Longest (unfolded) content line accepted, in bytes.
    pub max_line_bytes: usize,
    /// Most components (VEVENT, VTODO, VTIMEZONE, VALARM …) in one object.
    pub max_components: usize,
    /// Most properties in one object.
    pub max_properties: usize,
    /// Most ATTENDEE properties in one component.
    pub max_attendees: usize,
    /// Most instances the recurrence rules of one component may yield, and the budget of
    /// instances expanded per object (to check a RECURRENCE-ID, or to find an object's time
    /// range); an object that reaches it is treated as open-ended.
    pub max_instances: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_part_bytes: 512 * 1024,
            max_line_bytes: 16 * 1024,
            max_components: 1_000,
            max_properties: 10_000,
            max_attendees: 1_000,
            max_instances: 10_000,
        }
    }
}
