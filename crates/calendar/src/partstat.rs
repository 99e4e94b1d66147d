use calcard::icalendar::ICalendarParticipationStatus;

/// An attendee's answer (RFC 5545 section 3.2.12, for VEVENT).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartStat {
    NeedsAction,
    Accepted,
    Declined,
    Tentative,
    Delegated,
}

impl PartStat {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.trim().to_ascii_uppercase().as_str() {
            "NEEDS-ACTION" => PartStat::NeedsAction,
            "ACCEPTED" => PartStat::Accepted,
            "DECLINED" => PartStat::Declined,
            "TENTATIVE" => PartStat::Tentative,
            "DELEGATED" => PartStat::Delegated,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PartStat::NeedsAction => "NEEDS-ACTION",
            PartStat::Accepted => "ACCEPTED",
            PartStat::Declined => "DECLINED",
            PartStat::Tentative => "TENTATIVE",
            PartStat::Delegated => "DELEGATED",
        }
    }

    pub(crate) fn to_calcard(self) -> ICalendarParticipationStatus {
        match self {
            PartStat::NeedsAction => ICalendarParticipationStatus::NeedsAction,
            PartStat::Accepted => ICalendarParticipationStatus::Accepted,
            PartStat::Declined => ICalendarParticipationStatus::Declined,
            PartStat::Tentative => ICalendarParticipationStatus::Tentative,
            PartStat::Delegated => ICalendarParticipationStatus::Delegated,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_it_writes() {
        for p in [
            PartStat::NeedsAction,
            PartStat::Accepted,
            PartStat::Declined,
            PartStat::Tentative,
            PartStat::Delegated,
        ] {
            assert_eq!(PartStat::parse(p.as_str()), Some(p));
        }
        assert_eq!(PartStat::parse("accepted "), Some(PartStat::Accepted));
        assert_eq!(PartStat::parse("MAYBE"), None);
    }
}
