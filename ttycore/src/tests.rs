//! Property tests across the crate, and the terminal model they check
//! the output against.

mod editor_props;
mod keys_props;
mod ldisc_props;
pub(crate) mod screen;
