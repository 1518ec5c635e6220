//! Unit tests of the line editor: each key's line, cursor and output.
