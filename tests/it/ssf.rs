//! The Shared Signals transmitter as a receiver sees it: streams managed over HTTP with an
//! `ssf` token, CAEP events pushed or polled with the receiver's pairwise subject, and pushes
//! that survive a receiver that stalls and a provider killed in the middle.

mod access;
mod delivery;
mod poll;
mod streams;
mod support;
