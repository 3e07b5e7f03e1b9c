// Filled in by the store helpers.
