//! The helper end to end: login against a real HTTP server, the CLI, and PC/SC through vpcd.
