//! Runnable examples; see `src/bin/`.
