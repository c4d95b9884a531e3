//! Windows: what ended a process, and workers that die with their parent.
