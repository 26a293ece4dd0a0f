//! What the operator installs: the container image file, the systemd unit and the Debian
//! package (built, installed with dpkg, started as its unit would start it, logged in through,
//! purged).

mod container;
mod deb;
mod unit;
