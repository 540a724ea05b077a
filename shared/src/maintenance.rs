//! Maintenance of items: schedules ("every 3 months, from the last time it was done"), the
//! log of what was done, and the next due date of a schedule; the Maintenance and
//! Warranties overviews of a household.
