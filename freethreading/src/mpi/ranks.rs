//! Rank 0's table of the worker ranks: which links each serves, and the
//! tags the links answer on.
//!
//! A crew of `n` workers opens `n` links on `n` different ranks, those
//! with the fewest links open, so that a pool's workers run at once. Ranks
//! are shared: two pools alive at the same time each have a link on rank 1,
//! whose orders it serves in turn (as two pools of threads share cores).
//! A crew larger than the worker ranks is an error rather than links
//! sharing a rank within one crew, which could not run its tasks at once
//! (a `Barrier` of its size would never fill).

use std::collections::BTreeSet;
use std::io;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use parking_lot::Mutex;

use super::comm::{Rank, Tag};
use super::wire::{FIRST_LINK_TAG, LAST_LINK_TAG};

struct Table {
    /// Links open on each worker rank, rank `r` at `r - 1`.
    links: Vec<usize>,
    /// Tags of links open (or closing) now.
    tags: BTreeSet<Tag>,
    /// Where the search for a free tag starts: tags are handed out in a
    /// cycle, so a tag just freed is the last to be reused.
    next_tag: Tag,
}

static TABLE: Mutex<Option<Table>> = Mutex::new(None);

/// Answers each worker rank owes (to welcomes, jobs, closes sent), rank
/// `r` at `r - 1`: a rank that owes one at exit is running a task.
/// Counted outside the table's lock, since every round trip counts twice.
static OWED: OnceLock<Vec<AtomicUsize>> = OnceLock::new();

/// A link's place: its worker rank and its tag.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Place {
    pub(crate) rank: Rank,
    pub(crate) tag: Tag,
}

/// Places `n` links on `n` distinct worker ranks, the least busy first.
pub(crate) fn open(n: usize, worker_ranks: usize) -> io::Result<Vec<Place>> {
    if n > worker_ranks {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "{n} workers asked for, and this MPI job has {worker_ranks} worker rank{} \
                 (each worker is a rank of its own: start the program with `mpirun -n {}`)",
                if worker_ranks == 1 { "" } else { "s" },
                n + 1
            ),
        ));
    }
    let mut guard = TABLE.lock();
    OWED.get_or_init(|| (0..worker_ranks).map(|_| AtomicUsize::new(0)).collect());
    let table = guard.get_or_insert_with(|| Table {
        links: vec![0; worker_ranks],
        tags: BTreeSet::new(),
        next_tag: FIRST_LINK_TAG,
    });
    let span = usize::try_from(LAST_LINK_TAG - FIRST_LINK_TAG + 1).unwrap_or(usize::MAX);
    if table.tags.len() + n > span {
        return Err(io::Error::other(format!(
            "more than {span} workers open at once on the MPI backend"
        )));
    }
    let mut order: Vec<usize> = (0..table.links.len()).collect();
    // Stable: among equally busy ranks, the lowest first.
    order.sort_by_key(|&i| table.links[i]);
    let mut places = Vec::with_capacity(n);
    for &i in order.iter().take(n) {
        table.links[i] += 1;
        let tag = free_tag(table);
        places.push(Place {
            rank: Rank::try_from(i + 1).unwrap_or(Rank::MAX),
            tag,
        });
    }
    Ok(places)
}

fn free_tag(table: &mut Table) -> Tag {
    loop {
        let tag = table.next_tag;
        table.next_tag = if tag >= LAST_LINK_TAG {
            FIRST_LINK_TAG
        } else {
            tag + 1
        };
        if table.tags.insert(tag) {
            return tag;
        }
    }
}

/// Gives a closed link's place back.
pub(crate) fn close(place: Place) {
    if let Some(table) = TABLE.lock().as_mut() {
        if let Some(links) = usize::try_from(place.rank - 1)
            .ok()
            .and_then(|i| table.links.get_mut(i))
        {
            *links = links.saturating_sub(1);
        }
        table.tags.remove(&place.tag);
    }
}

/// Counts an order sent to `rank` that it will answer.
pub(crate) fn order_sent(rank: Rank) {
    if let Some(owed) = owed(rank) {
        owed.fetch_add(1, Ordering::Relaxed);
    }
}

/// Counts an answer read from `rank`.
pub(crate) fn answer_read(rank: Rank) {
    if let Some(owed) = owed(rank) {
        let _ = owed.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
    }
}

fn owed(rank: Rank) -> Option<&'static AtomicUsize> {
    let i = usize::try_from(rank - 1).ok()?;
    OWED.get()?.get(i)
}

/// The worker ranks that owe answers now: those running a task.
pub(crate) fn busy() -> Vec<Rank> {
    OWED.get().map_or_else(Vec::new, |owed| {
        (1..)
            .zip(owed)
            .filter(|(_, owed)| owed.load(Ordering::Relaxed) > 0)
            .map(|(rank, _)| rank)
            .collect()
    })
}
