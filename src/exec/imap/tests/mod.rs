//! Session tests against scripted servers on 127.0.0.1 (plain and TLS).

mod auth;
mod connection;
mod messages;
mod wait;
