//! Every bad input of the authorization, token and card endpoints gets the spec's error and
//! leaves stored state consistent.

mod card;
mod codes;
mod consent;
mod requests;
