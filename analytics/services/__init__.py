"""The writes of analytics: per-customer scores and model fits (`scores`), retention snapshots and analytics runs
(`snapshots`)."""
