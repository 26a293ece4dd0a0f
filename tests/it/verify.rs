//! Card verification against real test-kit cards: certificates, signatures, CRLs and facts.

mod cards;
mod crl;
mod facts;
mod support;
