//! Homebox-compatible CSV.
