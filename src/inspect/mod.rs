//! The offline reader (under construction).
