//! A small in-test `tracing` subscriber that records the crate's audit
//! events (target `client_assertion::audit`): name, level and fields.
//! Included with `#[path = "common/capture.rs"]` by the tests of audit
//! events.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use client_assertion::audit::TARGET;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

/// One audit event.
#[derive(Clone, Debug)]
pub struct Captured {
    pub name: &'static str,
    pub level: Level,
    pub fields: BTreeMap<&'static str, String>,
}

impl Captured {
    /// The field `name`, if the event has it.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }
}

/// The events seen so far. [`Capture::subscriber`] records into it.
#[derive(Clone, Default)]
pub struct Capture(pub Arc<Mutex<Vec<Captured>>>);

impl Capture {
    /// Records `event` if it is an audit event.
    pub fn record(&self, event: &Event<'_>) {
        let meta = event.metadata();
        if meta.target() != TARGET {
            return;
        }
        let mut fields = Fields(BTreeMap::new());
        event.record(&mut fields);
        self.0.lock().unwrap().push(Captured {
            name: meta.name(),
            level: *meta.level(),
            fields: fields.0,
        });
    }

    /// A subscriber that records every audit event into this capture.
    pub fn subscriber(&self) -> impl Subscriber {
        Sink::Into(self.clone())
    }
}

struct Fields(BTreeMap<&'static str, String>);

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name(), value.to_owned());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(field.name(), format!("{value:?}"));
    }
}

thread_local! {
    /// Where this thread's audit events go while [`capture`] runs.
    static SINK: std::cell::RefCell<Option<Capture>> = const { std::cell::RefCell::new(None) };
}

/// Where a subscriber puts events: into one capture, or into the capture
/// running on the emitting thread, if any.
///
/// [`capture`] installs `ThisThread` once, as the process-wide subscriber:
/// one global dispatcher instead of a scoped one per test, because scoped
/// dispatchers on parallel test threads race in tracing's shared callsite
/// and max-level caches, which once in a few dozen runs hid an event from
/// its capture.
enum Sink {
    Into(Capture),
    ThisThread,
}

impl Subscriber for Sink {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        match self {
            Self::Into(capture) => capture.record(event),
            Self::ThisThread => SINK.with(|sink| {
                if let Some(capture) = &*sink.borrow() {
                    capture.record(event);
                }
            }),
        }
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

/// Runs `f` with this thread's audit events captured and returns them.
pub fn capture<R>(f: impl FnOnce() -> R) -> (R, Vec<Captured>) {
    static ROUTER: std::sync::Once = std::sync::Once::new();
    ROUTER.call_once(|| {
        tracing::subscriber::set_global_default(Sink::ThisThread)
            .expect("no other global subscriber");
    });
    let capture = Capture::default();
    let events = capture.0.clone();
    let previous = SINK.with(|sink| sink.replace(Some(capture)));
    let r = f();
    SINK.with(|sink| sink.replace(previous));
    let events = events.lock().unwrap().clone();
    (r, events)
}
