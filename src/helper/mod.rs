//! The resident's helper: talks JPKI APDUs to a card and answers login challenges.
