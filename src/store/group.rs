//! Group commit on SQLite: the write transactions that request handlers ask for at about the
//! same time run one after another inside one SQLite transaction, each in a savepoint of its
//! own, and are committed together.
//!
//! A commit writes every page its transaction changed to the WAL, two system calls a page.
//! The token exchanges of a busy worker each append to the same last pages of the token and
//! audit tables; committed together, those pages are written once for the group instead of
//! once per exchange. Nothing is answered before the group's `COMMIT` has returned, so what a
//! handler was told is written is as durable as before.
//!
//! The first writer to arrive leads: it queues its work, lets the other ready requests of its
//! worker run once (they queue theirs behind it), then runs the queue. A writer that arrives
//! alone still commits alone, a scheduling round later.

use diesel::connection::{Connection, TransactionManager};
use diesel::result::{DatabaseErrorKind, Error};
use parking_lot::Mutex;
use tokio::sync::oneshot;

use super::db::{DbConn, StoreError};

/// One handler's write, type-erased so that different results share a queue.
pub(super) struct Job(Box<dyn FnOnce(Slot<'_>) -> Ran + Send>);

/// What a job is given: the group's open transaction (and whether it is alone in it), or
/// the reason the group could not begin.
pub(super) enum Slot<'a> {
    Run(&'a mut DbConn, bool),
    Refused(&'a StoreError),
}

/// What a settled job's handler is told once its group's fate is known: nothing when the group
/// committed, else why it was not.
type Tell = Box<dyn FnOnce(Option<StoreError>) + Send>;

/// How a job's work went, with what is owed to its handler once the group's fate is known.
pub(super) enum Ran {
    /// Done, or failed and rolled back to its own savepoint (its error is its answer): told
    /// whether the group committed.
    Settled(Tell),
    /// Failed so that the transaction cannot go on: the whole group is rolled back. Its own
    /// error, then what to tell it.
    Broke(Error, Box<dyn FnOnce(StoreError) + Send>),
    /// Not run: the group could not begin; its handler has been told.
    Refused,
}

/// A handler's answer: its result, or that its group was abandoned.
pub(super) type Answer<T> = oneshot::Receiver<Result<T, StoreError>>;

impl Job {
    /// `f`'s work as a job; the answer arrives once its group has committed or failed.
    pub(super) fn new<T: Send + 'static>(
        f: impl FnOnce(&mut DbConn) -> diesel::QueryResult<T> + Send + 'static,
    ) -> (Job, Answer<T>) {
        let (tell, answer) = oneshot::channel();
        let job = Job(Box::new(move |slot: Slot<'_>| {
            let (c, alone) = match slot {
                Slot::Run(c, alone) => (c, alone),
                Slot::Refused(why) => {
                    let why = match why {
                        StoreError::Unavailable(m) => m.clone(),
                        other => other.to_string(),
                    };
                    let _ = tell.send(Err(StoreError::Unavailable(why)));
                    return Ran::Refused;
                }
            };
            // Alone in its transaction, a failure rolls the transaction back (as without
            // grouping); among others, only its own savepoint.
            let result = if alone { f(c) } else { c.transaction(f) };
            match result {
                Ok(value) => Ran::Settled(Box::new(move |failed| {
                    let _ = tell.send(match failed {
                        None => Ok(value),
                        Some(e) => Err(e),
                    });
                })),
                Err(e) if !alone && stays_in_transaction(&e) && transaction_intact(c) => {
                    Ran::Settled(Box::new(move |_| {
                        let _ = tell.send(Err(StoreError::from_query(e)));
                    }))
                }
                Err(e) => Ran::Broke(
                    e,
                    Box::new(move |error| {
                        let _ = tell.send(Err(error));
                    }),
                ),
            }
        }));
        (job, answer)
    }
}

/// Errors after which SQLite has undone only the failing statement and the transaction goes
/// on: constraint violations (SQLite's default `ABORT`), and what diesel reports without the
/// database (no row, a value that does not convert, a deliberate rollback). Any other error
/// (I/O, a full disk, a busy database) may have rolled the whole transaction back.
fn stays_in_transaction(e: &Error) -> bool {
    match e {
        Error::DatabaseError(kind, _) => matches!(
            kind,
            DatabaseErrorKind::UniqueViolation
                | DatabaseErrorKind::ForeignKeyViolation
                | DatabaseErrorKind::NotNullViolation
                | DatabaseErrorKind::CheckViolation
        ),
        Error::NotFound
        | Error::RollbackTransaction
        | Error::DeserializationError(_)
        | Error::SerializationError(_)
        | Error::QueryBuilderError(_)
        | Error::InvalidCString(_) => true,
        _ => false,
    }
}

/// The group's transaction is still open at its own depth (the job's savepoint was released
/// or rolled back cleanly).
fn transaction_intact(c: &mut DbConn) -> bool {
    type Manager = <DbConn as Connection>::TransactionManager;
    matches!(
        Manager::transaction_manager_status_mut(c).transaction_depth(),
        Ok(Some(depth)) if depth.get() == 1
    )
}

/// The group's failed `COMMIT`, for each of its members (diesel's errors cannot be cloned):
/// the same kind and message.
fn copy(e: &Error) -> Error {
    match e {
        Error::DatabaseError(kind, info) => {
            Error::DatabaseError(*kind, Box::new(info.message().to_owned()))
        }
        other => Error::QueryBuilderError(other.to_string().into()),
    }
}

/// The writes waiting for their group, and whether a leader will run them.
#[derive(Default)]
pub(super) struct Queue {
    inner: Mutex<(Vec<Job>, bool)>,
}

impl Queue {
    /// Queues `job`; true when the caller is to lead (nobody leads the queue yet).
    pub(super) fn push(&self, job: Job) -> bool {
        let mut q = self.inner.lock();
        q.0.push(job);
        !std::mem::replace(&mut q.1, true)
    }

    /// The jobs to run now; the next writer to arrive leads the next group.
    pub(super) fn take(&self) -> Vec<Job> {
        let mut q = self.inner.lock();
        q.1 = false;
        std::mem::take(&mut q.0)
    }
}

/// Runs `jobs` in the transaction open on `c`, then `end`s it (`true`: commit, `false`: roll
/// back): committed when every job settled, rolled back when one broke it (the jobs after it
/// are not run). Every job's handler is told.
pub(super) fn run(
    c: &mut DbConn,
    jobs: Vec<Job>,
    end: impl FnOnce(&mut DbConn, bool) -> diesel::QueryResult<()>,
) {
    let alone = jobs.len() == 1;
    let mut settled = Vec::with_capacity(jobs.len());
    let mut jobs = jobs.into_iter();
    let mut broke = None;
    for job in jobs.by_ref() {
        match (job.0)(Slot::Run(c, alone)) {
            Ran::Settled(tell) => settled.push(tell),
            Ran::Broke(e, tell) => {
                broke = Some((e, tell));
                break;
            }
            Ran::Refused => {}
        }
    }
    let Some((e, tell_broken)) = broke else {
        let ended = end(c, true);
        for tell in settled {
            tell(
                ended
                    .as_ref()
                    .err()
                    .map(|e| StoreError::from_query(copy(e))),
            );
        }
        return;
    };
    let _ = end(c, false);
    // The others did nothing wrong: what they did is undone, they may try again.
    let undone = || StoreError::Unavailable(format!("rolled back with its group: {e}"));
    refuse(jobs.collect(), &undone());
    for tell in settled {
        tell(Some(undone()));
    }
    tell_broken(StoreError::from_query(e));
}

/// Tells every job of a group that could not begin (no connection, `BEGIN` refused) why.
pub(super) fn refuse(jobs: Vec<Job>, why: &StoreError) {
    for job in jobs {
        (job.0)(Slot::Refused(why));
    }
}
